"""The runbook rule: raise by one only when the pool is the bottleneck, within every bound."""

from __future__ import annotations

from dataclasses import replace

from service.tuning.rule import PoolSignals, on_pressure, on_quiet

BOTTLENECK = PoolSignals(
    waits_high=True, pinned=True, pinned_at_limit=True, db_errors=0, inhibitors=(), budget=10, reserved=4
)


def decide(
    signals: PoolSignals, *, limit: int = 4, ceiling: int = 10, since: float | None = None
) -> tuple[str, int, str]:
    verdict = on_pressure(signals, limit=limit, ceiling=ceiling, since_change=since, cooldown=600)
    return verdict.direction, verdict.new_limit, verdict.reason


def test_a_pinned_pool_with_high_waits_raises_the_limit_by_one() -> None:
    direction, new, reason = decide(BOTTLENECK)
    assert (direction, new) == ("up", 5) and "bottleneck" in reason


def test_storage_timeouts_and_an_unreachable_database_hold_the_limit() -> None:
    direction, _, reason = decide(replace(BOTTLENECK, inhibitors=("CsvbotStorageTimeoutsHigh",)))
    assert direction == "hold" and "CsvbotStorageTimeoutsHigh" in reason
    direction, _, reason = decide(replace(BOTTLENECK, db_errors=3))
    assert direction == "hold" and "unreachable" in reason


def test_no_raise_without_pinning_within_the_cooldown_at_the_ceiling_or_past_the_budget() -> None:
    assert decide(replace(BOTTLENECK, pinned=False))[2].startswith("no process is pinned")
    assert decide(BOTTLENECK, since=100)[2].startswith("cooldown")
    assert decide(BOTTLENECK, since=601)[0] == "up"
    assert decide(BOTTLENECK, limit=10, ceiling=10)[2].startswith("already at the ceiling")
    assert "budget is exhausted" in decide(replace(BOTTLENECK, pinned_at_limit=False))[2]
    assert "database is slow" in decide(replace(BOTTLENECK, queries_slower=True))[2]
    assert decide(replace(BOTTLENECK, waits_high=False))[0] == "hold"


def test_the_limit_comes_down_by_one_after_sustained_quiet_and_never_below_the_floor() -> None:
    def quiet(quiet_for: float, limit: int = 6, since: float | None = None) -> object:
        return on_quiet(
            quiet_for=quiet_for, quiet_needed=3600, limit=limit, floor=4, since_change=since, cooldown=600
        )

    assert quiet(100) is None
    verdict = quiet(3600)
    assert verdict is not None and verdict.direction == "down" and verdict.new_limit == 5  # type: ignore[attr-defined]
    assert quiet(7200, limit=4) is None
    assert quiet(7200, since=10) is None


def test_falling_waits_hold_with_their_reason() -> None:
    direction, new, reason = decide(replace(BOTTLENECK, improving="p95 4.00s → 2.00s"))
    assert (direction, new) == ("hold", 4) and "falling (p95 4.00s → 2.00s)" in reason
