"""Backoff is exponential with full jitter, capped, and never negative."""

from __future__ import annotations

import random

import pytest

from service.storage.retry import RetryPolicy


def test_backoff_ceiling_doubles_per_retry_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay_seconds=0.1, max_delay_seconds=0.5)
    assert [policy.backoff_ceiling(n) for n in range(1, 6)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


def test_full_jitter_spreads_sleeps_over_zero_to_the_ceiling() -> None:
    policy = RetryPolicy(base_delay_seconds=0.1, max_delay_seconds=2.0)
    rng = random.Random(1)
    sleeps = [policy.backoff(3, rng) for _ in range(2000)]
    assert all(0.0 <= s <= 0.4 for s in sleeps)
    assert min(sleeps) < 0.04 and max(sleeps) > 0.36  # the whole range is used, not a fixed delay


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"base_delay_seconds": -1.0},
        {"base_delay_seconds": 3.0, "max_delay_seconds": 1.0},
    ],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
