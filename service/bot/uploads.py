"""Document uploads: check, store, record the job, hand it to a worker, tell the user.

Type and size are checked from Telegram's metadata *before* anything is downloaded, so a 2 GB
video costs nothing. The accepted file is streamed to a temporary file, uploaded to storage under
a key the service builds (never the user's file name), and recorded as a job whose row carries the
trace context, so the worker's spans join this update's trace.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.types import Document, Message

from service import messages
from service.bot.callbacks import cancel_markup
from service.bot.middlewares import UpdateOutcome
from service.db import new_job_id
from service.deps import Services
from service.errors import EmptyFileError, FileTooLargeError, NotCsvError
from service.storage.keys import input_key
from service.telegram.api_session import method_label
from telemetry.tracing import inject_context

log = logging.getLogger(__name__)

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


async def on_document(message: Message, bot: Bot, services: Services, update_outcome: UpdateOutcome) -> None:
    assert message.document is not None and message.from_user is not None
    document = message.document
    settings, metrics = services.settings, services.metrics
    check_document(document, settings.max_upload_bytes)

    job_id = new_job_id()
    file_name = document.file_name or "upload.csv"
    user = message.from_user
    progress = await message.answer(messages.received(file_name))
    await services.repo.upsert_user(user_id=user.id, chat_id=message.chat.id, username=user.username)

    key = input_key(user.id, job_id)
    with tempfile.TemporaryDirectory(prefix="csvbot-upload-") as tmp:
        path = Path(tmp) / "input.csv"
        await _download(bot, services, document.file_id, path)
        size = path.stat().st_size
        if size > settings.max_upload_bytes:  # metadata can lie (or be missing)
            raise FileTooLargeError(user_message=messages.too_large(size, settings.max_upload_bytes))
        if size == 0:
            raise EmptyFileError(user_message=messages.empty_upload())
        metrics.csv_input_size.observe(size)
        await services.storage.upload_file(key, path, "text/csv")

    carrier = inject_context()
    await services.repo.create_job(
        job_id=job_id,
        user_id=user.id,
        chat_id=message.chat.id,
        file_name=file_name,
        file_size=size,
        input_key=key,
        progress_message_id=progress.message_id,
        trace_context=carrier,
    )
    # Queued before it is enqueued, so a worker that picks the task up at once can claim it.
    await services.repo.mark_queued(job_id)
    await services.enqueue(job_id, carrier)
    log.info(
        "upload accepted",
        extra={"event": "upload_accepted", "job_id": job_id, "user_id": user.id, "bytes": size},
    )
    update_outcome.outcome = "ok"
    await bot.edit_message_text(
        text=messages.queued(job_id),
        chat_id=message.chat.id,
        message_id=progress.message_id,
        reply_markup=cancel_markup(settings, job_id, user.id),
    )


async def _download(bot: Bot, services: Services, file_id: str, path: Path) -> None:
    """Stream the user's file from Telegram to ``path``, measured like any Bot API call."""
    label = method_label("downloadFile")
    started = time.perf_counter()
    status = "ok"
    try:
        await bot.download(file_id, destination=path)
    except Exception:
        status = "network_error"
        raise
    finally:
        services.metrics.telegram_requests.labels(label, status).inc()
        services.metrics.telegram_request_duration.labels(label).observe(time.perf_counter() - started)
