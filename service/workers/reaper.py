"""Background duties of every worker: rescue stuck jobs, sweep, publish queue depth, beat the heart.

A worker that dies mid-job leaves its job ``running`` with a lease. Once the lease expires the
reaper puts the job back on the queue (or fails it, when its attempts are used up, and tells the
user), so no upload is silently lost even if the broker's own redelivery does not happen. The
:class:`~service.workers.sweeper.Sweeper` then finds what else lost its way (tasks that never
reached the queue, uploads never queued, results never delivered). The first tick runs at once,
so a process that starts recovers what the previous one left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiogram import Bot

from service import messages
from service.db import JobStatus
from service.db.models import StaleJobs
from service.deps import Services
from service.errors import CsvbotError
from service.i18n.users import speaking_to
from service.workers.runner import Kick
from service.workers.sweeper import Sweeper
from telemetry import slo
from telemetry.labels import WAITING_STATUSES
from telemetry.messaging import quiet_tick, tick_span

log = logging.getLogger(__name__)


class Reaper:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        kick: Kick,
        *,
        heartbeat_file: Path | None,
        sweeper: Sweeper | None = None,
        interval: float = slo.WORKER_HEARTBEAT_INTERVAL_SECONDS,
        heartbeat_status: Callable[[], dict[str, object]] | None = None,
    ) -> None:
        self.services = services
        self.bot = bot
        self.kick = kick
        self.heartbeat_file = heartbeat_file
        self.sweeper = sweeper
        self.interval = interval
        #: What the heartbeat file says besides "alive" (the broker consumer's state).
        self.heartbeat_status = heartbeat_status
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="csvbot-reaper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.sweeper is not None:
            await self.sweeper.aclose()

    async def _loop(self) -> None:
        while True:
            try:
                # A tick that finds nothing to do leaves no trace; one that does opens its own.
                with quiet_tick():
                    await self.tick()
            except CsvbotError as exc:  # database down: try again next tick, keep beating
                log.warning("reaper tick failed: %s", exc.kind, extra={"error_kind": exc.kind})
            except Exception:
                log.exception("reaper tick crashed")
            await asyncio.sleep(self.interval)

    async def tick(self) -> None:
        metrics, repo = self.services.metrics, self.services.repo
        self.beat()
        try:
            await self._reap()
        finally:
            # The sweep runs whatever happened above; it retries kicks the reap could not make.
            if self.sweeper is not None:
                await self.sweeper.sweep()
        counts = await repo.count_jobs_by_status()
        metrics.job_queue_depth.set(counts[JobStatus.QUEUED])
        # What the stuck-job and undelivered-result alerts read: after the sweep, so a job it
        # just moved on does not count as waiting.
        ages = await repo.job_path_ages()
        for status in WAITING_STATUSES:
            metrics.jobs_oldest_age.labels(status).set(ages.oldest_seconds[status])
        metrics.results_undelivered.set(ages.counts["undelivered"])
        metrics.results_undelivered_oldest_age.set(ages.oldest_seconds["undelivered"])

    async def _reap(self) -> None:
        metrics, repo = self.services.metrics, self.services.repo
        stale = await repo.requeue_stale_jobs()
        if stale.requeued or stale.failed:
            with tick_span("reaper.tick", requeued=len(stale.requeued), failed=len(stale.failed)):
                await self._rescue(stale)
        counts = await repo.count_jobs_by_status()
        metrics.job_queue_depth.set(counts[JobStatus.QUEUED])

    async def _rescue(self, stale: StaleJobs) -> None:
        metrics = self.services.metrics
        for job in stale.requeued:
            log.warning("job lease expired; queued again", extra={"job_id": job.id, "attempt": job.attempts})
        if self.sweeper is not None:
            # Every job is tried; a kick that fails is kept and tried again next tick.
            await self.sweeper.kick_jobs(stale.requeued, "lease_expired")
        else:
            for job in stale.requeued:
                metrics.jobs_requeued.labels("lease_expired").inc()
                with contextlib.suppress(Exception):  # left queued: a sweeper will find it
                    await self.kick(job.id, job.trace_context)
        for job in stale.failed:
            metrics.jobs.labels("failed").inc()
            metrics.count_error("worker", "internal")
            log.error("job lease expired with no attempts left", extra={"job_id": job.id})
            with contextlib.suppress(Exception):
                async with speaking_to(self.services, job.user_id):
                    await self.bot.send_message(job.chat_id, messages.failed(job.id, messages.kept_failing()))

    def beat(self) -> None:
        now = time.time()
        self.services.metrics.worker_heartbeat.set(now)
        if self.heartbeat_file is not None:
            self.heartbeat_file.parent.mkdir(parents=True, exist_ok=True)
            status = self.heartbeat_status() if self.heartbeat_status is not None else {}
            # Written whole and renamed, so --check never reads half a file.
            partial = self.heartbeat_file.with_suffix(".tmp")
            partial.write_text(json.dumps({"at": now, **status}, sort_keys=True))
            partial.replace(self.heartbeat_file)


def heartbeat_status(path: Path) -> dict[str, Any]:
    """What the last heartbeat said (empty if the file is missing or not ours)."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def heartbeat_age(path: Path) -> float | None:
    """Seconds since the heartbeat file was touched, or ``None`` if there is none."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None
