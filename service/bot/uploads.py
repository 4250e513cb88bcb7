"""Document uploads: check, keep, store, record the job, hand it to a worker, tell the user.

Type and size are checked from Telegram's metadata *before* anything is downloaded, so a 2 GB
video costs nothing; so are the per-user quotas (jobs in flight, bytes per day). The accepted file
is streamed into the upload spool (:mod:`service.spool`), which stores it under a key the service
builds (never the user's file name), records the job — its row carries the trace context, so the
worker's spans join this update's trace — and queues it; when storage, the database or the broker
is down the file stays spooled and is finished when they are back.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.types import Document, Message

from service import messages
from service.bot.middlewares import UpdateOutcome
from service.db import new_job_id, utc_now
from service.deps import Services
from service.errors import (
    EmptyFileError,
    FileTooLargeError,
    InternalError,
    NotCsvError,
    QuotaExceededError,
    RetryableError,
)
from service.spool import SpoolEntry, UploadDesk
from service.storage.keys import input_key
from service.telegram.download import download_file
from telemetry.tracing import inject_context

log = logging.getLogger(__name__)

#: The byte quota counts the uploads of the last 24 hours (a rolling day).
QUOTA_WINDOW = timedelta(hours=24)
CSV_EXTENSIONS = (".csv", ".tsv", ".txt", ".tab", ".psv")
#: What phones and spreadsheets label CSVs as; octet-stream is common for files without a type.
CSV_MIME_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "text/tab-separated-values",
        "text/comma-separated-values",
        "text/x-csv",
        "application/csv",
        "application/x-csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
    }
)


def check_document(document: Document, max_bytes: int) -> None:
    """Refuse what cannot be a CSV or is too big, from metadata alone."""
    name = (document.file_name or "").lower()
    mime = (document.mime_type or "").lower()
    if not name.endswith(CSV_EXTENSIONS) and mime not in CSV_MIME_TYPES - {"application/octet-stream"}:
        raise NotCsvError(user_message=messages.wrong_file_type(document.file_name))
    if document.file_size is not None and document.file_size > max_bytes:
        raise FileTooLargeError(user_message=messages.too_large(document.file_size, max_bytes))
    if document.file_size == 0:
        raise EmptyFileError(user_message=messages.empty_upload())


def build_router() -> Router:
    router = Router(name="uploads")
    router.message.register(on_document, F.document, flags={"handler": "upload"})
    return router


async def on_document(
    message: Message,
    bot: Bot,
    services: Services,
    update_outcome: UpdateOutcome,
    upload_desk: UploadDesk | None = None,
) -> None:
    assert message.document is not None and message.from_user is not None
    document = message.document
    settings, metrics = services.settings, services.metrics
    check_document(document, settings.max_upload_bytes)
    if upload_desk is None:
        raise InternalError("the dispatcher has no upload desk")
    user = message.from_user
    await check_quotas(services, upload_desk, user.id, document.file_size)

    job_id = new_job_id()
    file_name = document.file_name or "upload.csv"
    progress = await message.answer(messages.received(file_name))
    path = upload_desk.spool.incoming_path(job_id)
    try:
        await download_file(bot, metrics, document.file_id, path, file_name)
        size = path.stat().st_size
        if size > settings.max_upload_bytes:  # metadata can lie (or be missing)
            raise FileTooLargeError(user_message=messages.too_large(size, settings.max_upload_bytes))
        if size == 0:
            raise EmptyFileError(user_message=messages.empty_upload())
    except BaseException:
        upload_desk.spool.discard_incoming(job_id)
        raise
    metrics.csv_input_size.observe(size)
    entry = SpoolEntry(
        job_id=job_id,
        user_id=user.id,
        chat_id=message.chat.id,
        username=user.username,
        file_name=file_name,
        size=size,
        input_key=input_key(user.id, job_id),
        progress_message_id=progress.message_id,
        trace_context=inject_context(),
        accepted_at=time.time(),
    )
    # Stored, recorded, marked queued, announced and enqueued — or kept in the spool until the
    # dependency that failed is back (the user is told so), never "send it again".
    queued = await upload_desk.accept(entry, path)
    log.info(
        "upload accepted" if queued else "upload spooled",
        extra={"event": "upload_accepted", "job_id": job_id, "user_id": user.id, "bytes": size},
    )
    update_outcome.outcome = "ok"


async def check_quotas(services: Services, desk: UploadDesk, user_id: int, file_size: int | None) -> None:
    """Refuse an upload past the user's quotas. With the database down the quotas are not known
    and the upload goes ahead: an outage must not turn into refusals."""
    settings, metrics = services.settings, services.metrics
    try:
        usage = await services.repo.user_usage(user_id, since=utc_now() - QUOTA_WINDOW)
    except RetryableError as exc:
        log.info("quotas not checked: %s", exc.kind, extra={"event": "quota_unchecked", "user_id": user_id})
        return
    if usage.active_jobs + desk.waiting_for_user(user_id) >= settings.quota_active_jobs:
        metrics.quota_refused.labels("active_jobs").inc()
        raise QuotaExceededError(
            "active jobs quota", user_message=messages.quota_active_jobs(settings.quota_active_jobs)
        )
    # Uploads still waiting in the spool (no job row yet) count too: an outage must not let a
    # user past the budget.
    used = usage.bytes_since + desk.bytes_waiting_for_user(user_id)
    if used + (file_size or 0) > settings.quota_daily_bytes:
        metrics.quota_refused.labels("daily_bytes").inc()
        raise QuotaExceededError(
            "daily bytes quota",
            user_message=messages.quota_daily_bytes(used, settings.quota_daily_bytes),
        )
