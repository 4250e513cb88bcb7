"""Removing a job's stored objects: its input and both results.

The keys are rebuilt from the job's user and id as well as read from its row, so results a worker
uploaded but had not yet recorded are removed too. A key that is already gone is not an error.
"""

from __future__ import annotations

import contextlib
import logging

from service.db import Job
from service.deps import Services
from service.errors import StorageNotFoundError
from service.storage.keys import cleaned_key, input_key, profile_key

log = logging.getLogger(__name__)


def job_keys(job: Job) -> list[str]:
    recorded = [job.input_key, job.cleaned_key, job.profile_key]
    derived = [
        input_key(job.user_id, job.id),
        cleaned_key(job.user_id, job.id),
        profile_key(job.user_id, job.id),
    ]
    return list(dict.fromkeys(key for key in [*recorded, *derived] if key))


def recorded_count(job: Job) -> int:
    """How many stored files the job's row knows of (what the user is told was deleted)."""
    return sum(1 for key in (job.input_key, job.cleaned_key, job.profile_key) if key)


async def remove_job_objects(services: Services, job: Job, trigger: str) -> None:
    """Delete every object of ``job``; storage errors other than not-found propagate."""
    for key in job_keys(job):
        with contextlib.suppress(StorageNotFoundError):
            await services.storage.delete(key)
    services.metrics.stored_objects_deleted.labels(trigger).inc(recorded_count(job))
    log.info("job files deleted", extra={"event": "job_files_deleted", "job_id": job.id, "trigger": trigger})
