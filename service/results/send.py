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
from aiogram.types import FSInputFile, ReplyParameters
from aiogram.utils.formatting import Text

from service.db import Job
from service.deps import Services
from service.errors import CsvbotError
from service.exports.formats import EXTENSIONS

log = logging.getLogger(__name__)


def stem_of(job: Job) -> str:
    return Path(job.file_name).stem or "data"


async def upload_action(bot: Bot, chat_id: int) -> None:
    """Show "sending a file…" in the chat; purely cosmetic, so a failure is ignored."""
    with contextlib.suppress(Exception):
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)


async def resend(services: Services, bot: Bot, job: Job, text: Text, *, reply_to: int | None = None) -> bool:
    """Send a done job's results again; ``False`` if they are no longer stored.

    Each document goes by its Telegram file id while Telegram still has it, and from storage
    otherwise: a refused second id costs only the second document, never a repeat of the first.
    ``reply_to``: the message asking for them (``/job``); the documents answer it, so they read
    as that answer, not as a second delivery of the job (a deleted request is no obstacle).
    """
    reply = (
        {"reply_parameters": ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)}
        if reply_to is not None
        else {}
    )
    file_ids = await services.repo.result_file_ids(job.id)
    keys = (job.cleaned_key, job.profile_key)
    if file_ids is None and None in keys:
        return False
    fmt = str((job.summary or {}).get("output_format") or "csv")
    ext = EXTENSIONS.get(fmt, ".csv")
    names = (f"{stem_of(job)}.cleaned{ext}", f"{stem_of(job)}.profile{ext}")
    sent: list[str | None] = []
    from_storage = False
    await upload_action(bot, job.chat_id)
    with tempfile.TemporaryDirectory(prefix=f"csvbot-job-{job.id}-") as tmp:
        for index, key in enumerate(keys):
            caption = {**(text.as_caption_kwargs() if index == 0 else {}), **reply}
            if file_ids is not None:
                try:
                    message = await bot.send_document(job.chat_id, file_ids[index], **caption)
                    sent.append(message.document.file_id if message.document else None)
                    continue
                except TelegramBadRequest:  # Telegram forgot the file: send it from storage
                    log.info("stored file id refused; sending from storage", extra={"job_id": job.id})
            if key is None:
                return False
            path = await services.storage.download_to_file(key, Path(tmp))
            message = await bot.send_document(
                job.chat_id, FSInputFile(path, filename=names[index]), **caption
            )
            sent.append(message.document.file_id if message.document else None)
            from_storage = True
    if from_storage and sent[0] is not None and sent[1] is not None:
        with contextlib.suppress(CsvbotError):
            await services.repo.set_result_file_ids(job.id, sent[0], sent[1])
    return True
