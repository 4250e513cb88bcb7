"""The resizable session limiter: order, timeouts, resizing, and its pool metrics."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from service.db.limiter import SessionLimiter
from service.errors import PoolExhaustedError
from telemetry.metrics import Metrics


def gauge(registry: CollectorRegistry, name: str) -> float | None:
    return registry.get_sample_value(name)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_holders_never_exceed_the_limit_and_waiters_are_served_in_arrival_order(
    metrics: Metrics,
) -> None:
    limiter = SessionLimiter(2, acquire_timeout=5, metrics=metrics)
    order: list[int] = []
    holding = 0
    most = 0

    async def caller(n: int) -> None:
        nonlocal holding, most
        await limiter.acquire()
        order.append(n)
        holding += 1
        most = max(most, holding)
        await asyncio.sleep(0.001)
        holding -= 1
        limiter.release()

    tasks = []
    for n in range(10):
        tasks.append(asyncio.create_task(caller(n)))
        await asyncio.sleep(0)  # arrive one after another
    await asyncio.gather(*tasks)
    assert most == 2 and order == list(range(10))


async def test_waiting_past_the_timeout_raises_pool_exhausted_and_counts_it(
    metrics: Metrics, registry: CollectorRegistry
) -> None:
    limiter = SessionLimiter(1, acquire_timeout=0.05, metrics=metrics)
    await limiter.acquire()
    with pytest.raises(PoolExhaustedError, match="limit 1"):
        await limiter.acquire()
    assert gauge(registry, "csvbot_db_pool_acquire_timeouts_total") == 1
    assert gauge(registry, "csvbot_db_pool_waiting") == 0
    assert limiter.in_use == 1


async def test_growing_admits_waiters_at_once(metrics: Metrics, registry: CollectorRegistry) -> None:
    limiter = SessionLimiter(1, acquire_timeout=5, metrics=metrics)
    await limiter.acquire()
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(2)]
    await settle()
    assert gauge(registry, "csvbot_db_pool_waiting") == 2
    limiter.set_limit(3)
    await asyncio.gather(*waiters)
    assert limiter.in_use == 3 and gauge(registry, "csvbot_db_pool_in_use") == 3


async def test_shrinking_keeps_current_holders_and_admits_nobody_until_below_the_new_limit(
    metrics: Metrics,
) -> None:
    limiter = SessionLimiter(3, acquire_timeout=5, metrics=metrics)
    for _ in range(3):
        await limiter.acquire()
    limiter.set_limit(1)
    assert limiter.in_use == 3  # nobody is cut off
    waiter = asyncio.create_task(limiter.acquire())
    limiter.release()
    limiter.release()
    await settle()
    assert not waiter.done() and limiter.in_use == 1
    limiter.release()
    await waiter
    assert limiter.in_use == 1


async def test_a_cancelled_waiter_leaves_no_slot_behind(metrics: Metrics) -> None:
    limiter = SessionLimiter(1, acquire_timeout=5, metrics=metrics)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limiter.release()
    assert limiter.in_use == 0 and limiter.waiting == 0
    await limiter.acquire()


async def test_a_slot_handed_to_a_waiter_that_is_cancelled_in_the_same_instant_passes_on(
    metrics: Metrics,
) -> None:
    limiter = SessionLimiter(1, acquire_timeout=5, metrics=metrics)
    await limiter.acquire()
    first = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    await settle()
    limiter.release()  # hands the slot to `first` ...
    first.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await first
    await second  # the slot went on to the next waiter instead of leaking
    assert limiter.in_use == 1


def test_a_negative_limit_is_refused(metrics: Metrics) -> None:
    with pytest.raises(ValueError):
        SessionLimiter(-1, acquire_timeout=1, metrics=metrics)
    limiter = SessionLimiter(1, acquire_timeout=1, metrics=metrics)
    with pytest.raises(ValueError):
        limiter.set_limit(-1)


async def test_a_limit_of_zero_admits_nobody_until_it_grows(metrics: Metrics) -> None:
    """A process without a share of the budget queues callers; a grant lets them in."""
    limiter = SessionLimiter(0, acquire_timeout=0.05, metrics=metrics)
    with pytest.raises(PoolExhaustedError):
        await limiter.acquire()
    limiter = SessionLimiter(0, acquire_timeout=5, metrics=metrics)
    waiter = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0.01)
    assert not waiter.done() and limiter.waiting == 1
    limiter.set_limit(1)
    await asyncio.wait_for(waiter, 1)
    assert limiter.in_use == 1


async def test_an_observer_window_sees_waits_timeouts_and_pinning(metrics: Metrics) -> None:
    limiter = SessionLimiter(1, acquire_timeout=0.05, metrics=metrics)
    window = limiter.observe()
    await limiter.acquire()
    with pytest.raises(PoolExhaustedError):
        await limiter.acquire()
    taken = window.take()
    assert taken.pinned and taken.timeouts == 1 and len(taken.waits) == 2 and taken.peak_waiting == 1
    assert taken.p95() >= 0.05
    limiter.release()
    fresh = window.take()
    assert not fresh.pinned and fresh.timeouts == 0 and fresh.waits == []


def test_release_without_acquire_is_a_bug_not_a_silent_extra_slot(metrics: Metrics) -> None:
    with pytest.raises(RuntimeError):
        SessionLimiter(1, acquire_timeout=1, metrics=metrics).release()
