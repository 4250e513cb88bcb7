"""The peer: a bare aiogram 3 bot with csvbot's command handlers and no telemetry.

The ceiling csvbot's command rate is compared against (bench/capacity_bench.py). It answers
``/start``, ``/help``, ``/jobs`` and ``/job <id>`` with csvbot's own texts and does the same
database work through csvbot's repository (the product's SQL on the same PostgreSQL or SQLite),
but it has nothing else: no update middlewares (telemetry, flood limit), no logging set-up, no
tracing, a plain aiogram session without csvbot's measured and retrying request middleware.

Run like ``csvbot run``: settings from the environment (BOT_TOKEN, TELEGRAM_API_URL,
DATABASE_URL or SQLITE_PATH). ``python bench/bare_bot.py``
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from prometheus_client import CollectorRegistry

from service import messages
from service.config import Settings, load_settings
from service.db import Repository, open_repository
from service.errors import JobNotFoundError
from telemetry.metrics import Metrics


def build(settings: Settings, repo: Repository) -> Dispatcher:
    dp = Dispatcher()

    async def on_start(message: Message) -> None:
        assert message.from_user is not None
        await repo.upsert_user(
            user_id=message.from_user.id, chat_id=message.chat.id, username=message.from_user.username
        )
        await message.answer(messages.start_text(settings))

    async def on_help(message: Message) -> None:
        await message.answer(messages.help_text(settings))

    async def on_jobs(message: Message) -> None:
        assert message.from_user is not None
        jobs = await repo.list_jobs(message.from_user.id, limit=10)
        if not jobs:
            await message.answer(messages.no_jobs())
            return
        lines = ["Your recent jobs:"]
        lines += [
            f"{j.id} · {j.status.value} · {j.file_name} · {j.created_at:%Y-%m-%d %H:%M UTC}" for j in jobs
        ]
        await message.answer("\n".join([*lines, "\nSend /job <id> for details."]))

    async def on_job(message: Message, command: CommandObject) -> None:
        assert message.from_user is not None
        job_id = (command.args or "").strip()
        if not job_id:
            await message.answer(messages.job_usage())
            return
        try:
            job = await repo.get_job_for_user(job_id, message.from_user.id)
        except JobNotFoundError as exc:
            await message.answer(exc.user_message)
            return
        await message.answer(f"Job {job.id}: {job.status.value}\nFile: {job.file_name}")

    dp.message.register(on_start, CommandStart())
    dp.message.register(on_help, Command("help"))
    dp.message.register(on_jobs, Command("jobs"))
    dp.message.register(on_job, Command("job"))
    return dp


async def main() -> None:
    settings = load_settings()
    # The repository wants a Metrics; this one is never served or read.
    repo = await open_repository(settings, Metrics(CollectorRegistry(), process_metrics=False))
    assert settings.bot_token is not None
    api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else None
    session = AiohttpSession(api=api) if api else AiohttpSession()
    bot = Bot(token=settings.bot_token.get_secret_value(), session=session)
    try:
        await build(settings, repo).start_polling(bot)
    finally:
        await repo.aclose()
        await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main())
