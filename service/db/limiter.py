"""A resizable, first-come-first-served limit on concurrent database sessions.

``asyncio.Semaphore`` cannot change its size while tasks hold it, and asyncpg's ``Pool`` cannot
resize at all. This limiter can: growing wakes waiters at once; shrinking lets the sessions in
flight finish and admits nobody new until fewer than the new limit are in use, so the number of
sessions in use falls to the new limit as work returns and never climbs above it again.

It also owns the pool metrics (in use, waiting, wait time, acquire timeouts), so both backends
report them the same way, and feeds :class:`PoolWindow` observers: the connection budget's lease
reports and the adaptive tuning controller each read their own window of waits and peaks.

A limit of 0 admits nobody: a process that holds no share of the connection budget yet (or lost
its lease) queues callers until it gets one, and they time out as usual if it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from service.errors import PoolExhaustedError
from telemetry.metrics import Metrics
from telemetry.tracing import exemplar


class PoolWindow:
    """What the pool went through since the last :meth:`take`: waits, timeouts, peak use."""

    #: Enough samples for a p95 over a busy minute; older ones in an overlong window are dropped.
    MAX_SAMPLES = 10_000

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.timeouts = 0
        self.peak_in_use = 0
        self.peak_waiting = 0
        #: Whether in-use reached the limit (the pool was the bottleneck) at any point.
        self.pinned = False

    def take(self) -> PoolWindow:
        """This window's contents; the observer starts a fresh one."""
        done = PoolWindow()
        done.waits, self.waits = self.waits, []
        done.timeouts, self.timeouts = self.timeouts, 0
        done.peak_in_use, self.peak_in_use = self.peak_in_use, 0
        done.peak_waiting, self.peak_waiting = self.peak_waiting, 0
        done.pinned, self.pinned = self.pinned, False
        return done

    def p95(self) -> float:
        if not self.waits:
            return 0.0
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


class SessionLimiter:
    """At most ``limit`` holders at a time; waiters are served in arrival order."""

    def __init__(self, limit: int, *, acquire_timeout: float, metrics: Metrics) -> None:
        if limit < 0:
            raise ValueError(f"limit must be at least 0, not {limit}")
        self._limit = limit
        self._acquire_timeout = acquire_timeout
        self._metrics = metrics
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._windows: list[PoolWindow] = []
        self._publish()

    def observe(self) -> PoolWindow:
        """A new observer window, updated from now on."""
        window = PoolWindow()
        self._windows.append(window)
        return window

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
                for window in self._windows:
                    window.timeouts += 1
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
        if limit < 0:
            raise ValueError(f"limit must be at least 0, not {limit}")
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
        waited = time.perf_counter() - started
        self._metrics.db_pool_wait.observe(waited, exemplar=exemplar())
        for window in self._windows:
            if len(window.waits) < PoolWindow.MAX_SAMPLES:
                window.waits.append(waited)
        self._publish()

    def _publish(self) -> None:
        waiting = self.waiting
        for window in self._windows:
            window.peak_in_use = max(window.peak_in_use, self._in_use)
            window.peak_waiting = max(window.peak_waiting, waiting)
            if self._limit > 0 and self._in_use >= self._limit:
                window.pinned = True
        self._metrics.db_pool_in_use.set(self._in_use)
        self._metrics.db_pool_waiting.set(waiting)
