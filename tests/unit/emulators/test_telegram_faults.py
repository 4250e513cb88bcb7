"""Fault rules (count, probability, latency, method matching) and the call counters."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from emulators.telegram import FaultRule, TelegramEmulator
from emulators.telegram.faults import CallStats, FaultInjector


def _statuses(injector: FaultInjector, method: str, calls: int) -> list[int]:
    decisions = [injector.decide(method) for _ in range(calls)]
    return [200 if d.error is None else d.error.error_code for d in decisions]


def test_count_limited_rule_applies_to_the_next_n_matching_calls_only() -> None:
    """count=2 fails exactly the next two calls of that method, then the rule is gone."""
    injector = FaultInjector(random.Random(0))
    injector.add(FaultRule("rate_limit", frozenset({"sendMessage"}), count=2, retry_after=5))

    assert _statuses(injector, "getMe", 2) == [200, 200]
    assert _statuses(injector, "SENDMESSAGE", 3) == [429, 429, 200]
    assert injector.rules() == []


def test_probability_is_reproducible_with_a_seed() -> None:
    """The same seed gives the same fault pattern; the share is close to the probability."""
    patterns = []
    for _ in range(2):
        injector = FaultInjector(random.Random(42))
        injector.add(FaultRule("server_error", probability=0.3, status=502))
        patterns.append(_statuses(injector, "sendDocument", 2000))

    assert patterns[0] == patterns[1]
    assert 0.25 < patterns[0].count(502) / 2000 < 0.35


def test_latency_rules_add_up_and_the_first_error_rule_wins() -> None:
    """Every firing latency rule adds delay; only the first firing error rule is applied."""
    injector = FaultInjector(random.Random(0))
    injector.add(FaultRule("latency", latency_seconds=0.2))
    injector.add(FaultRule("latency", frozenset({"getFile"}), latency_seconds=0.3))
    first = injector.add(FaultRule("server_error", status=500))
    second = injector.add(FaultRule("rate_limit", retry_after=9))

    decision = injector.decide("getFile")

    assert decision.latency_seconds == pytest.approx(0.5)
    assert decision.error is not None and decision.error.error_code == 500
    assert (first.applied, second.applied) == (1, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "rate_limit", "retry_after": 0},
        {"kind": "server_error", "status": 404},
        {"kind": "latency", "latency_seconds": -1.0},
        {"kind": "latency", "probability": 1.5},
        {"kind": "explode"},
    ],
)
def test_invalid_rules_are_rejected(bad: dict[str, object]) -> None:
    """A rule that cannot be expressed on the wire fails when it is created."""
    with pytest.raises(ValueError):
        FaultRule(**bad)  # type: ignore[arg-type]


def test_call_stats_count_by_method_status_and_both() -> None:
    stats = CallStats()
    stats.record("sendMessage", 200)
    stats.record("sendMessage", 429)
    stats.record("getMe", 200)

    assert stats.calls() == 3
    assert (stats.calls("sendMessage"), stats.calls(status=200)) == (2, 2)
    assert stats.calls("sendMessage", 429) == 1
    assert stats.to_json()["by_method_status"] == {
        "getMe": {"200": 1},
        "sendMessage": {"200": 1, "429": 1},
    }
    stats.reset()
    assert stats.calls() == 0


async def test_injected_latency_delays_the_answer() -> None:
    """A latency fault holds the HTTP answer back by at least the configured time."""
    async with TelegramEmulator() as emulator:
        emulator.inject_latency("getMe", seconds=0.3, count=1)
        async with httpx.AsyncClient(base_url=f"{emulator.url}/bot{emulator.token}") as client:
            started = time.monotonic()
            slow = await client.post("/getMe")
            slow_elapsed = time.monotonic() - started
            rules_after = emulator.faults()

    assert slow.status_code == 200
    assert slow_elapsed >= 0.3
    assert rules_after == []  # count=1: the next call is not delayed
