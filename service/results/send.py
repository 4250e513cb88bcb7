"""Sending a job's two result documents, with Telegram's "sending a file" indicator.

The documents' Telegram ``file_id``s are recorded, so ``/job <id>`` sends them again by id
(:func:`resend`): no download from storage, no upload to Telegram. Storage is the fallback when
Telegram no longer knows a file id.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import FSInputFile
from aiogram.utils.formatting import Text

from service.db import Job
from service.deps import Services
from service.errors import CsvbotError
from service.exports.formats import EXTENSIONS, Exported

log = logging.getLogger(__name__)


def stem_of(job: Job) -> str:
    return Path(job.file_name).stem or "data"


async def upload_action(bot: Bot, chat_id: int) -> None:
    """Show "sending a file…" in the chat; purely cosmetic, so a failure is ignored."""
    with contextlib.suppress(Exception):
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)


async def send_results(services: Services, bot: Bot, job: Job, exported: Exported, text: Text) -> None:
    cleaned_name, profile_name = exported.names(stem_of(job))
    await upload_action(bot, job.chat_id)
    first = await bot.send_document(
        job.chat_id, FSInputFile(exported.cleaned, filename=cleaned_name), **text.as_caption_kwargs()
    )
    await upload_action(bot, job.chat_id)
    second = await bot.send_document(job.chat_id, FSInputFile(exported.profile, filename=profile_name))
    if first.document is not None and second.document is not None:
        try:
            await services.repo.set_result_file_ids(job.id, first.document.file_id, second.document.file_id)
        except CsvbotError as exc:  # /job then falls back to storage
            log.warning(
                "could not record the results' file ids", extra={"job_id": job.id, "error_kind": exc.kind}
            )


async def resend(services: Services, bot: Bot, job: Job, text: Text) -> bool:
    """Send a done job's results again; ``False`` if they are no longer stored."""
    file_ids = await services.repo.result_file_ids(job.id)
    if file_ids is not None:
        try:
            await upload_action(bot, job.chat_id)
            await bot.send_document(job.chat_id, file_ids[0], **text.as_caption_kwargs())
            await bot.send_document(job.chat_id, file_ids[1])
            return True
        except TelegramBadRequest:  # Telegram forgot the file: send it from storage instead
            log.info("stored file id refused; sending from storage", extra={"job_id": job.id})
    if job.cleaned_key is None or job.profile_key is None:
        return False
    fmt = str((job.summary or {}).get("output_format") or "csv")
    ext = EXTENSIONS.get(fmt, ".csv")
    stem = stem_of(job)
    with tempfile.TemporaryDirectory(prefix=f"csvbot-job-{job.id}-") as tmp:
        cleaned = await services.storage.download_to_file(job.cleaned_key, Path(tmp))
        profile = await services.storage.download_to_file(job.profile_key, Path(tmp))
        await upload_action(bot, job.chat_id)
        first = await bot.send_document(
            job.chat_id, FSInputFile(cleaned, filename=f"{stem}.cleaned{ext}"), **text.as_caption_kwargs()
        )
        second = await bot.send_document(job.chat_id, FSInputFile(profile, filename=f"{stem}.profile{ext}"))
    if first.document is not None and second.document is not None:
        with contextlib.suppress(CsvbotError):
            await services.repo.set_result_file_ids(job.id, first.document.file_id, second.document.file_id)
    return True
