"""Cancelling a job: from the user's side (command or button) and at the worker's checkpoints.

The bot ends the job's row as cancelled at once (:meth:`~service.db.userdata.UserDataStore.cancel_job`).
A job that had not started is then never claimed (claiming needs ``queued``), and its input is
deleted right away. A running job belongs to its worker, which looks at the row between stages
(:func:`checkpoint`): on seeing it cancelled (or deleted by ``/delete``) it stops, removes what it
stored and tells the user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from service.db import Job, JobStatus
from service.db.userdata import is_cancelled
from service.deps import Services
from service.errors import CsvbotError, JobNotFoundError

from .objects import remove_job_objects

log = logging.getLogger(__name__)


class JobCancelledError(Exception):
    """The job's user cancelled it (or deleted their data) while it ran. Not a CsvbotError: it is
    no failure, and the runner handles it before its failure path."""


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    job: Job
    #: True: this call cancelled it. False: it was final already (``job.status`` says how).
    cancelled: bool
    #: The job was running: its worker stops at its next checkpoint and cleans up.
    running: bool = False


async def cancel(services: Services, job_id: str, user_id: int) -> CancelOutcome:
    """Cancel ``user_id``'s job; :class:`JobNotFoundError` for a missing or another's job."""
    result = await services.repo.cancel_job(job_id, user_id)
    if result is None:
        return CancelOutcome(job=await services.repo.get_job_for_user(job_id, user_id), cancelled=False)
    services.metrics.jobs_cancelled.inc()
    log.info(
        "job cancelled by its user",
        extra={"event": "job_cancelled", "job_id": job_id, "previous_status": result.previous.value},
    )
    running = result.previous is JobStatus.RUNNING
    if not running:  # nobody works on it: its files go now
        await remove_job_objects(services, result.job, "cancel")
    return CancelOutcome(job=result.job, cancelled=True, running=running)


async def checkpoint(services: Services, job_id: str) -> None:
    """Raise :class:`JobCancelledError` if the job was cancelled or deleted since it started."""
    try:
        job = await services.repo.get_job(job_id)
    except JobNotFoundError:
        raise JobCancelledError(f"job {job_id} was deleted") from None
    # Only a cancel stops the job here: a job the reaper re-queued meanwhile still needs its input.
    if is_cancelled(job):
        raise JobCancelledError(f"job {job_id} was cancelled")


async def stop_cancelled(services: Services, job: Job) -> None:
    """The worker's side of a cancel: remove what the job stored. Storage being down leaves the
    files to the retention sweep rather than failing the worker's task."""
    try:
        await remove_job_objects(services, job, "cancel")
    except CsvbotError as exc:
        services.metrics.count_error("worker", exc.kind)
        log.warning(
            "could not delete a cancelled job's files; retention will",
            extra={"event": "cancel_cleanup_failed", "job_id": job.id, "error_kind": exc.kind},
        )
    log.info("cancelled job stopped", extra={"event": "job_stopped", "job_id": job.id})
