"""The adaptive controller's guards: no decision on too few samples; pressure goes to the rule."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from service.config import load_settings
from service.db.limiter import SessionLimiter
from service.tuning.adaptive import AdaptiveController
from service.tuning.rule import PoolSignals
from telemetry import slo
from telemetry.metrics import Metrics


class FakeRepo:
    def __init__(self, metrics: Metrics) -> None:
        self.limiter = SessionLimiter(4, acquire_timeout=1, metrics=metrics)
        self.session_limit = 4
        self.pool_sessions = 4


class FakeTuner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def quiet(self, *, quiet: bool, source: str) -> None:
        self.calls.append(("quiet", quiet))

    async def ledger_signals(
        self, *, waits_high: bool, db_errors: int = 0, queries_slower: bool = False
    ) -> PoolSignals:
        return PoolSignals(
            waits_high=waits_high,
            pinned=False,
            pinned_at_limit=False,
            db_errors=db_errors,
            inhibitors=(),
            budget=10,
            reserved=4,
            queries_slower=queries_slower,
        )

    async def pressure(self, signals: PoolSignals, *, source: str, trigger: str) -> None:
        self.calls.append(("pressure", signals))


def controller() -> tuple[AdaptiveController, FakeRepo, FakeTuner, Metrics]:
    metrics = Metrics(CollectorRegistry(), process_metrics=False)
    repo, tuner = FakeRepo(metrics), FakeTuner()
    settings = load_settings({}, env_file=None)
    return AdaptiveController(settings, repo, tuner, metrics), repo, tuner, metrics  # type: ignore[arg-type]


async def test_a_window_with_too_few_samples_decides_nothing_even_with_long_waits() -> None:
    ctl, _repo, tuner, _ = controller()
    window = ctl._window
    window.waits = [3.0] * (slo.TUNING_MIN_SAMPLES - 1)
    window.pinned = True
    await ctl.step()
    assert tuner.calls == [("quiet", True)]


async def test_long_waits_on_a_pinned_pool_go_to_the_rule_with_db_errors_and_storage_timeouts() -> None:
    ctl, _repo, tuner, metrics = controller()
    metrics.count_error("db", "db_unavailable")
    metrics.storage_timeouts.labels("upload").inc()
    window = ctl._window
    window.waits = [2.0] * slo.TUNING_MIN_SAMPLES
    window.pinned = True
    await ctl.step()
    ((kind, signals),) = tuner.calls
    assert kind == "pressure" and signals.waits_high and signals.pinned and signals.pinned_at_limit
    assert signals.db_errors == 1 and "storage timeouts" in signals.inhibitors


async def test_waits_falling_fast_hold_the_limit_while_the_backlog_drains() -> None:
    """4 s, then 2 s (the last step works: hold), then 1.9 s (no longer falling: raise)."""
    ctl, _repo, tuner, _ = controller()
    for p95 in (4.0, 2.0, 1.9):
        ctl._window.waits = [p95] * slo.TUNING_MIN_SAMPLES
        ctl._window.pinned = True
        await ctl.step()
    improving = [signals.improving for kind, signals in tuner.calls if kind == "pressure"]
    assert improving[0] is None
    assert improving[1] == "p95 4.00s → 2.00s"
    assert improving[2] is None
