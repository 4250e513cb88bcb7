"""The retention sweep: uploads older than ``RETENTION_DAYS`` lose their files and job rows.

A periodic task of its own (started by the process assembly where jobs run, beside the reaper),
in batches so that a backlog after downtime never holds a database session for long. Running jobs
are skipped (their worker owns their files) and swept on a later pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from service.db import utc_now
from service.deps import Services
from service.errors import CsvbotError

from .objects import recorded_count, remove_job_objects

log = logging.getLogger(__name__)

#: Jobs per batch: small enough that one batch is a few seconds of storage deletes.
BATCH = 100


async def sweep_once(services: Services, now: datetime | None = None) -> int:
    """Delete every expired job's files and row; how many jobs went."""
    cutoff = (now or utc_now()) - timedelta(days=services.settings.retention_days)
    swept = 0
    while True:
        jobs = await services.repo.expired_jobs(cutoff, BATCH)
        if not jobs:
            break
        for job in jobs:
            await remove_job_objects(services, job, "retention")
            services.metrics.retention_swept.labels("object").inc(recorded_count(job))
        deleted = await services.repo.delete_jobs([job.id for job in jobs])
        services.metrics.retention_swept.labels("job").inc(deleted)
        swept += deleted
        if len(jobs) < BATCH or deleted == 0:
            break
    if swept:
        log.info("retention sweep deleted expired jobs", extra={"event": "retention_swept", "jobs": swept})
    return swept


class RetentionSweeper:
    def __init__(self, services: Services, interval: float | None = None) -> None:
        self.services = services
        self.interval = interval if interval is not None else services.settings.retention_sweep_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="csvbot-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await sweep_once(self.services)
            except CsvbotError as exc:  # storage or database down: the next pass catches up
                log.warning("retention sweep failed: %s", exc.kind, extra={"error_kind": exc.kind})
            except Exception:
                log.exception("retention sweep crashed")
            await asyncio.sleep(self.interval)
