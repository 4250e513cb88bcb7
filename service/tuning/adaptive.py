"""The in-process controller (``SESSION_LIMIT_TUNING=adaptive``), for deployments without a scraper.

Once per ``SESSION_LIMIT_WINDOW_SECONDS`` it reads what this process's pool went through and
feeds the runbook rule, additive-increase style (one step, then a cooldown), with the guards
that keep adaptive limiters from running away:

* no decision on a window with fewer than :data:`~telemetry.slo.TUNING_MIN_SAMPLES` acquisitions
  (a p95 of three waits is noise);
* no growth while the database is unreachable (db_unavailable errors in the window: more sessions
  only add connect attempts), while storage times out (a job stuck on storage is not helped), or
  while queries themselves got slower than the window before (the database is the bottleneck:
  more concurrency makes each query slower still);
* no growth unless the pool is pinned at its grant: callers that time out while sessions sit idle
  wait on something else (a queue that times out at a stable latency);
* a cooldown between steps, and the ceiling and the budget as hard bounds (in the rule);
* no growth while the wait p95 falls fast from one window to the next (below
  TUNING_IMPROVING_FRACTION of the last): a backlog built up before the last step keeps waits
  above the threshold while it drains, and a step for each such window overshoots.

The limit comes down by one after SESSION_LIMIT_QUIET_SECONDS of quiet windows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from service.config import Settings
from service.db.limiter import PoolWindow
from service.db.sql_repository import SqlRepository
from service.tuning.tuner import Tuner
from telemetry import slo
from telemetry.metrics import Metrics, sample_totals

log = logging.getLogger(__name__)

#: Queries taking this much longer on average than in the last calm window mean the database
#: got slow: 3x, past run-to-run noise and the event-loop lag of a busy process (which stretches
#: every measured query a little), well before a timeout.
QUERY_SLOWDOWN_FACTOR = 3.0


class AdaptiveController:
    def __init__(self, settings: Settings, repo: SqlRepository, tuner: Tuner, metrics: Metrics) -> None:
        self._settings = settings
        self._repo = repo
        self._tuner = tuner
        self._metrics = metrics
        self._window: PoolWindow = repo.limiter.observe()
        self._interval = settings.session_limit_window_seconds
        self._counters = self._read_counters()
        #: Mean query time of the last window without pressure (the baseline for "slower").
        self._calm_query_seconds: float | None = None
        #: Pool-wait p95 of the last window that had enough samples.
        self._last_p95: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="adaptive-session-limit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.step()
            except Exception:  # a failed step must not end tuning for the process's lifetime
                log.exception("adaptive session limit step failed")

    async def step(self) -> None:
        """Judge the window that just ended."""
        window = self._window.take()
        counters = self._read_counters()
        delta = {name: counters[name] - self._counters[name] for name in counters}
        self._counters = counters
        samples = len(window.waits)
        if samples < slo.TUNING_MIN_SAMPLES and not window.timeouts:
            log.debug("too few samples for a session limit decision", extra={"samples": samples})
            await self._tuner.quiet(quiet=True, source="adaptive")
            return
        p95 = window.p95()
        last_p95, self._last_p95 = self._last_p95, p95
        query_seconds = delta["query_sum"] / delta["query_count"] if delta["query_count"] else 0.0
        waits_high = p95 > slo.POOL_WAIT_P95_MAX_SECONDS or window.timeouts > 0
        if not waits_high:
            quiet = p95 < slo.POOL_WAIT_P95_MAX_SECONDS * slo.TUNING_QUIET_WAIT_FRACTION and not window.pinned
            if delta["query_count"] >= slo.TUNING_MIN_SAMPLES:  # a baseline of a few queries is noise too
                self._calm_query_seconds = query_seconds
            await self._tuner.quiet(quiet=quiet, source="adaptive")
            return
        calm = self._calm_query_seconds
        slower = calm is not None and query_seconds > calm * QUERY_SLOWDOWN_FACTOR
        signals = await self._tuner.ledger_signals(
            waits_high=True, db_errors=int(delta["db_errors"]), queries_slower=slower
        )
        if delta["storage_timeouts"]:
            signals = replace(signals, inhibitors=(*signals.inhibitors, "storage timeouts"))
        # This process's own window counts for "pinned" too: the ledger's view may be a heartbeat old.
        at_limit = window.pinned and self._repo.pool_sessions >= self._repo.session_limit
        falling = last_p95 is not None and p95 < last_p95 * slo.TUNING_IMPROVING_FRACTION
        signals = replace(
            signals,
            pinned=signals.pinned or window.pinned,
            pinned_at_limit=signals.pinned_at_limit or at_limit,
            improving=f"p95 {last_p95:.2f}s → {p95:.2f}s" if falling and last_p95 is not None else None,
        )
        await self._tuner.pressure(
            signals,
            source="adaptive",
            trigger=(
                f"controller (wait p95 {p95:.2f}s over {samples} acquisitions, {window.timeouts} timeouts)"
            ),
        )

    def _read_counters(self) -> dict[str, float]:
        m = self._metrics
        errors = sample_totals(m.errors, component="db", kind="db_unavailable")
        queries = sample_totals(m.db_query_duration)
        return {
            "db_errors": errors.get("csvbot_errors_total", 0.0),
            "storage_timeouts": sample_totals(m.storage_timeouts).get("csvbot_storage_timeouts_total", 0.0),
            "query_sum": queries.get("csvbot_db_query_duration_seconds_sum", 0.0),
            "query_count": queries.get("csvbot_db_query_duration_seconds_count", 0.0),
        }
