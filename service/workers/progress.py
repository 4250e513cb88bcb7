"""Keep the user's progress message current without flooding the Bot API.

Telegram rate-limits edits of one message, and a job may report progress many times a second;
this reporter edits at most once per ``min_interval`` and drops intermediate fractions. An edit
that fails (message deleted, "not modified", Telegram hiccup) never fails the job.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from service import messages

log = logging.getLogger(__name__)


class ProgressReporter:
    def __init__(
        self, bot: Bot, chat_id: int, message_id: int | None, job_id: str, min_interval: float = 2.0
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.message_id = message_id
        self.job_id = job_id
        self.min_interval = min_interval
        self._stage = "queued"
        self._last_edit = 0.0
        self._last_text = ""
        self._pending: asyncio.Task[None] | None = None
        #: Buttons kept under the message while the job runs (Cancel); dropped by :meth:`final`.
        self.reply_markup: InlineKeyboardMarkup | None = None

    async def stage(self, name: str, fraction: float | None = None) -> None:
        self._stage = name
        await self._edit(messages.progress(self.job_id, name, fraction), force=True)

    def fraction(self, value: float) -> None:
        """Called from the loop (scheduled by the processing thread); throttled, fire-and-forget."""
        if time.monotonic() - self._last_edit < self.min_interval or self._pending is not None:
            return
        text = messages.progress(self.job_id, self._stage, max(0.0, min(1.0, value)))
        self._pending = asyncio.get_running_loop().create_task(self._edit(text, force=False))
        self._pending.add_done_callback(lambda _: setattr(self, "_pending", None))

    async def final(self, text: str) -> None:
        await self._settle()
        self.reply_markup = None
        await self._edit(text, force=True)

    async def aclose(self) -> None:
        await self._settle()

    async def _settle(self) -> None:
        if self._pending is not None:
            await asyncio.gather(self._pending, return_exceptions=True)

    async def _edit(self, text: str, *, force: bool) -> None:
        if self.message_id is None or text == self._last_text:
            return
        if not force and time.monotonic() - self._last_edit < self.min_interval:
            return
        self._last_edit = time.monotonic()
        self._last_text = text
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=self.chat_id, message_id=self.message_id, reply_markup=self.reply_markup
            )
        except Exception as exc:  # progress is best-effort; the result message is what matters
            log.info(
                "progress edit failed",
                extra={"event": "progress_edit_failed", "job_id": self.job_id, "error": type(exc).__name__},
            )
