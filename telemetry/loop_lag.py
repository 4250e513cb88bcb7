"""Event-loop lag: how late the loop wakes a periodic task, and who was holding it.

A task sleeps ``interval`` seconds and measures how much later than asked it woke up; that delay
is time some callback kept the loop busy. Every wake feeds ``csvbot_event_loop_lag_seconds``, and
the largest lag of the last window feeds ``csvbot_event_loop_lag_max_seconds``.

The loop cannot report on itself while it is blocked, so a small watchdog thread watches the
task's heartbeat. When the loop has not ticked for ``log_threshold`` seconds, the watchdog reads
the loop thread's current Python frame and asyncio's current task — the code that is blocking —
and logs one warning per episode naming them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

from telemetry import slo
from telemetry.metrics import Metrics

__all__ = ["LoopLagMonitor"]

log = logging.getLogger(__name__)


@dataclass
class LoopLagMonitor:
    """Start with :meth:`start` from inside the loop; stop with :meth:`stop`."""

    metrics: Metrics
    interval: float = slo.EVENT_LOOP_LAG_INTERVAL_SECONDS
    log_threshold: float = slo.EVENT_LOOP_LAG_LOG_SECONDS
    #: Window of the recent-max gauge.
    max_window: float = 10.0

    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _watchdog: threading.Thread | None = field(default=None, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _last_tick: float = field(default=0.0, init=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _loop_thread_id: int = field(default=0, init=False)
    #: The slow-code description the watchdog saw during the current episode (logged once).
    _episode_culprit: str | None = field(default=None, init=False)
    blocked_reports: int = field(default=0, init=False)

    def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._last_tick = time.monotonic()
        self._stop.clear()
        self._task = self._loop.create_task(self._run(), name="csvbot-loop-lag-monitor")
        self._watchdog = threading.Thread(target=self._watch, name="csvbot-loop-watchdog", daemon=True)
        self._watchdog.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._watchdog is not None:
            await asyncio.to_thread(self._watchdog.join, 2.0)
            self._watchdog = None

    async def _run(self) -> None:
        window_start = time.monotonic()
        window_max = 0.0
        while True:
            expected = time.monotonic() + self.interval
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            self._last_tick = now
            lag = max(0.0, now - expected)
            self.metrics.event_loop_lag.observe(lag)
            window_max = max(window_max, lag)
            self.metrics.event_loop_lag_max.set(window_max)
            if lag >= self.log_threshold:
                self._log_episode(lag)
            if now - window_start >= self.max_window:
                window_start, window_max = now, 0.0

    def _log_episode(self, lag: float) -> None:
        culprit = self._episode_culprit or "unknown (it finished before the watchdog looked)"
        self._episode_culprit = None
        log.warning(
            "event loop was blocked for %.3f s by %s",
            lag,
            culprit,
            extra={"event": "event_loop_blocked", "lag_seconds": round(lag, 4), "culprit": culprit},
        )

    def _watch(self) -> None:
        # Check a few times per threshold so the culprit is caught while it still runs.
        period = min(self.interval, self.log_threshold) / 4
        while not self._stop.wait(period):
            stalled = time.monotonic() - self._last_tick - self.interval
            if stalled >= self.log_threshold and self._episode_culprit is None:
                self._episode_culprit = self._describe_blocker()
                self.blocked_reports += 1

    def _describe_blocker(self) -> str:
        """Name the task and the innermost frames the loop thread is executing right now."""
        parts: list[str] = []
        if self._loop is not None:
            # current_task reads a dict keyed by loop: safe enough from another thread for a
            # diagnostic (the worst case is a stale name, never a crash).
            with contextlib.suppress(Exception):
                task = asyncio.current_task(self._loop)
                if task is not None:
                    parts.append(f"task {task.get_name()!r}")
        frame = sys._current_frames().get(self._loop_thread_id)
        if frame is not None:
            stack = traceback.extract_stack(frame)[-3:]
            parts.append(" <- ".join(f"{f.name} ({f.filename}:{f.lineno})" for f in reversed(stack)))
        return " in ".join(parts) if parts else "unknown code"
