"""The way back down in ``alerts`` mode: lower the limit by one after a sustained quiet period.

Alertmanager only says when something is wrong, so the bot watches the ledger itself: once per
``SESSION_LIMIT_WINDOW_SECONDS`` the service is quiet when no process's lease reports its pool
pinned at its grant or callers waiting. After ``SESSION_LIMIT_QUIET_SECONDS`` of that (and the
cooldown), the rule lowers the limit by one, never below ``SUPABASE_SESSION_LIMIT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from service.tuning.tuner import Tuner

log = logging.getLogger(__name__)


class QuietWatch:
    def __init__(self, tuner: Tuner, *, interval: float) -> None:
        self._tuner = tuner
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="session-limit-quiet")

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
            except Exception:  # one failed look must not end the watch
                log.exception("session limit quiet check failed")

    async def step(self) -> None:
        budget = self._tuner.budget
        if budget is None:
            return
        leases = (await budget.status()).leases
        busy = any(lease.report.pinned or lease.report.waiting > 0 for lease in leases)
        await self._tuner.quiet(quiet=not busy and not self._tuner.active_inhibitors(), source="alerts")
