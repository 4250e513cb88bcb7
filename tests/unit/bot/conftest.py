"""Fixtures of the bot's unit tests: aiogram's real HTTP session against the Telegram emulator
(the fake sits at the Bot API boundary, so aiogram itself runs unchanged), and message builders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from itertools import count

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.types import Chat, Document, Message, User

from emulators.telegram import EmulatedUser, TelegramEmulator
from service.telegram.api_session import TelemetryRequestMiddleware
from telemetry.metrics import Metrics

MakeMessage = Callable[..., Message]


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(seed=5) as emulator:
        yield emulator


@pytest.fixture
async def bot(emulator: TelegramEmulator, metrics: Metrics) -> AsyncIterator[Bot]:
    """A Bot whose session carries the production request middleware (fast 5xx backoff)."""
    session = AiohttpSession(api=emulator.api_server())
    session.middleware(TelemetryRequestMiddleware(metrics, max_attempts=3, backoff_base=0.01))
    bot = Bot(emulator.token, session=session)
    yield bot
    await bot.session.close()


@pytest.fixture
def make_message(bot: Bot) -> MakeMessage:
    """A Message from ``user`` as Telegram would deliver it, bound to ``bot`` (so .answer works)."""
    ids = count(1)

    def make(user: EmulatedUser, text: str | None = "hello", document: Document | None = None) -> Message:
        message = Message(
            message_id=next(ids),
            date=datetime.now(UTC),
            chat=Chat(id=user.chat_id, type="private"),
            from_user=User(id=user.id, is_bot=False, first_name=user.first_name),
            text=None if document is not None else text,
            document=document,
        )
        return message.as_(bot)

    return make


def tg_user(user: EmulatedUser) -> User:
    return User(id=user.id, is_bot=False, first_name=user.first_name)
