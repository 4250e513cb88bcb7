"""The steps from a downloaded file to a queued job, each safe to repeat after a failure.

``advance`` runs the steps an entry has not done yet: record the user, store the file (an upsert
under the service's key), record the job (skipped when the row already exists), mark it queued,
tell the user, enqueue. It records each stage reached, so a replay — after an outage or a restart —
resumes where the last attempt stopped. A failure of a dependency becomes :class:`DependencyDown`
naming it; anything else (a permanent error) propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from aiogram import Bot

from service import messages
from service.bot.callbacks import cancel_markup
from service.config import Settings
from service.db import JobStatus
from service.deps import Services
from service.errors import (
    BrokerUnavailableError,
    CsvbotError,
    DatabaseUnavailableError,
    JobNotFoundError,
    PoolExhaustedError,
    RetryableError,
    StorageIntegrityError,
    StorageTimeoutError,
    StorageUnavailableError,
)
from service.spool.entry import Dependency, SpoolEntry, Stage

log = logging.getLogger(__name__)

#: Called after each stage reached (the desk persists the record there).
OnStage = Callable[[SpoolEntry], None]


class DependencyDown(Exception):
    """A step failed because ``dependency`` is down (or too slow); trying later can succeed."""

    def __init__(self, dependency: Dependency, cause: CsvbotError) -> None:
        super().__init__(f"{dependency} unavailable: {cause.kind}")
        self.dependency: Dependency = dependency
        self.cause = cause


def dependency_of(exc: BaseException) -> Dependency | None:
    """The dependency a retryable error is about, or ``None`` for anything else."""
    if isinstance(exc, StorageTimeoutError | StorageUnavailableError | StorageIntegrityError):
        return "storage"
    if isinstance(exc, DatabaseUnavailableError | PoolExhaustedError):
        return "database"
    if isinstance(exc, BrokerUnavailableError):
        return "broker"
    return None


async def advance(
    services: Services, bot: Bot, entry: SpoolEntry, data: Path, on_stage: OnStage, *, replay: bool
) -> bool:
    """Run the remaining steps; ``True`` once the job is enqueued, ``False`` if the job row shows
    that something else (a sweeper) took the job further. Raises :class:`DependencyDown`."""
    try:
        return await _advance(services, bot, entry, data, on_stage, replay=replay)
    except RetryableError as exc:
        dependency = dependency_of(exc)
        if dependency is None:
            raise
        raise DependencyDown(dependency, exc) from exc


async def _advance(
    services: Services, bot: Bot, entry: SpoolEntry, data: Path, on_stage: OnStage, *, replay: bool
) -> bool:
    repo = services.repo

    def reached(stage: Stage) -> None:
        entry.stage = stage
        on_stage(entry)

    if entry.stage < Stage.USER_RECORDED:
        await repo.upsert_user(user_id=entry.user_id, chat_id=entry.chat_id, username=entry.username)
        reached(Stage.USER_RECORDED)
    if entry.stage < Stage.STORED:
        await services.storage.upload_file(entry.input_key, data, "text/csv")
        reached(Stage.STORED)
    if entry.stage < Stage.RECORDED:
        # A replay may follow a create whose answer was lost (the row exists): look first.
        if not (replay and await _job_exists(services, entry.job_id)):
            await repo.create_job(
                job_id=entry.job_id,
                user_id=entry.user_id,
                chat_id=entry.chat_id,
                file_name=entry.file_name,
                file_size=entry.size,
                input_key=entry.input_key,
                progress_message_id=entry.progress_message_id,
                trace_context=entry.trace_context,
            )
        reached(Stage.RECORDED)
    if entry.stage < Stage.QUEUED:
        # Queued before it is enqueued, so a worker that picks the task up at once can claim it.
        if await repo.mark_queued(entry.job_id) is None:
            job = await repo.get_job(entry.job_id)
            if job.status is not JobStatus.QUEUED:
                return False  # a worker has it already (or it is final): nothing left to do here
        reached(Stage.QUEUED)
    # The "queued" edit goes out before the task exists: sent after it, a delayed edit (one 429
    # or 502 is enough) could land after the worker's final edit and hide the result.
    await announce_queued(bot, services.settings, entry)
    try:
        await services.enqueue(entry.job_id, entry.trace_context)
    except Exception as exc:  # the broker's own errors (redis ConnectionError, timeouts, …)
        raise BrokerUnavailableError(f"enqueue failed: {type(exc).__name__}") from exc
    reached(Stage.ENQUEUED)
    return True


async def _job_exists(services: Services, job_id: str) -> bool:
    try:
        await services.repo.get_job(job_id)
    except JobNotFoundError:
        return False
    return True


async def announce_queued(bot: Bot, settings: Settings, entry: SpoolEntry) -> None:
    """The "queued" edit, with the Cancel button (signed for the uploader). Best effort: a failed edit
    must not keep the job from being enqueued."""
    try:
        await bot.edit_message_text(
            text=messages.queued(entry.job_id),
            chat_id=entry.chat_id,
            message_id=entry.progress_message_id,
            reply_markup=cancel_markup(settings, entry.job_id, entry.user_id),
        )
    except Exception as exc:
        log.info(
            "queued edit failed",
            extra={"event": "progress_edit_failed", "job_id": entry.job_id, "error": type(exc).__name__},
        )
