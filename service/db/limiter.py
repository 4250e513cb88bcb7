"""A resizable, first-come-first-served limit on concurrent database sessions.

``asyncio.Semaphore`` cannot change its size while tasks hold it, and asyncpg's ``Pool`` cannot
resize at all. This limiter can: growing wakes waiters at once; shrinking lets the sessions in
flight finish and admits nobody new until fewer than the new limit are in use, so the number of
sessions in use falls to the new limit as work returns and never climbs above it again.

It also owns the pool metrics (in use, waiting, wait time, acquire timeouts), so both backends
report them the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from service.errors import PoolExhaustedError
from telemetry.metrics import Metrics
from telemetry.tracing import exemplar


class SessionLimiter:
    """At most ``limit`` holders at a time; waiters are served in arrival order."""

    def __init__(self, limit: int, *, acquire_timeout: float, metrics: Metrics) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self._limit = limit
        self._acquire_timeout = acquire_timeout
        self._metrics = metrics
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._publish()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def acquire(self) -> None:
        """Take a slot, waiting at most the acquire timeout; else :class:`PoolExhaustedError`."""
        started = time.perf_counter()
        if self._in_use < self._limit and not self._waiters:
            self._in_use += 1
            self._observe_wait(started)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._publish()
        try:
            async with asyncio.timeout(self._acquire_timeout):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                # The slot was handed over just as the timeout or a cancellation hit: pass it on
                # rather than leak it.
                self._in_use -= 1
            waiter.cancel()
            self._forget(waiter)
            self._wake()
            if isinstance(exc, TimeoutError):
                self._observe_wait(started)
                self._metrics.db_pool_acquire_timeouts.inc()
                raise PoolExhaustedError(
                    f"no database session became free within {self._acquire_timeout:g}s "
                    f"(limit {self._limit}, in use {self._in_use}, waiting {self.waiting})"
                ) from None
            raise
        self._observe_wait(started)

    def release(self) -> None:
        """Give a slot back and admit the next waiter if the (possibly lowered) limit allows."""
        if self._in_use <= 0:
            raise RuntimeError("release() without a matching acquire()")
        self._in_use -= 1
        self._wake()

    def set_limit(self, limit: int) -> None:
        """Change the limit now. Holders above a lowered limit keep their slots until release."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self._limit = limit
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._in_use < self._limit:
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            self._in_use += 1
            waiter.set_result(None)
        self._publish()

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):  # already popped by _wake
            self._waiters.remove(waiter)

    def _observe_wait(self, started: float) -> None:
        self._metrics.db_pool_wait.observe(time.perf_counter() - started, exemplar=exemplar())
        self._publish()

    def _publish(self) -> None:
        self._metrics.db_pool_in_use.set(self._in_use)
        self._metrics.db_pool_waiting.set(self.waiting)
