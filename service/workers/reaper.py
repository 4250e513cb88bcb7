"""Background duties of every worker: rescue stuck jobs, publish queue depth, beat the heart.

A worker that dies mid-job leaves its job ``running`` with a lease. Once the lease expires the
reaper puts the job back on the queue (or fails it, when its attempts are used up, and tells the
user), so no upload is silently lost even if the broker's own redelivery does not happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from aiogram import Bot

from service import messages
from service.db import JobStatus
from service.deps import Services
from service.errors import CsvbotError
from service.i18n.users import speaking_to
from service.workers.runner import Kick
from telemetry import slo

log = logging.getLogger(__name__)


class Reaper:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        kick: Kick,
        *,
        heartbeat_file: Path | None,
        interval: float = slo.WORKER_HEARTBEAT_INTERVAL_SECONDS,
    ) -> None:
        self.services = services
        self.bot = bot
        self.kick = kick
        self.heartbeat_file = heartbeat_file
        self.interval = interval
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

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except CsvbotError as exc:  # database down: try again next tick, keep beating
                log.warning("reaper tick failed: %s", exc.kind, extra={"error_kind": exc.kind})
            except Exception:
                log.exception("reaper tick crashed")
            await asyncio.sleep(self.interval)

    async def tick(self) -> None:
        metrics, repo = self.services.metrics, self.services.repo
        self.beat()
        stale = await repo.requeue_stale_jobs()
        for job in stale.requeued:
            metrics.jobs_requeued.labels("lease_expired").inc()
            log.warning("job lease expired; queued again", extra={"job_id": job.id, "attempt": job.attempts})
            await self.kick(job.id, job.trace_context)
        for job in stale.failed:
            metrics.jobs.labels("failed").inc()
            metrics.count_error("worker", "internal")
            log.error("job lease expired with no attempts left", extra={"job_id": job.id})
            with contextlib.suppress(Exception):
                async with speaking_to(self.services, job.user_id):
                    await self.bot.send_message(job.chat_id, messages.failed(job.id, messages.kept_failing()))
        counts = await repo.count_jobs_by_status()
        metrics.job_queue_depth.set(counts[JobStatus.QUEUED])

    def beat(self) -> None:
        now = time.time()
        self.services.metrics.worker_heartbeat.set(now)
        if self.heartbeat_file is not None:
            self.heartbeat_file.parent.mkdir(parents=True, exist_ok=True)
            self.heartbeat_file.touch()


def heartbeat_age(path: Path) -> float | None:
    """Seconds since the heartbeat file was touched, or ``None`` if there is none."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None
