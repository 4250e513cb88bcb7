"""The process's Bot session stays closed after shutdown: a send that outlives it fails at once
instead of opening an aiohttp session that nothing closes."""

from __future__ import annotations

import gc
import weakref

import pytest
from aiogram.methods import Response, SendMessage
from aiohttp import ClientConnectionError
from pydantic import SecretStr

from emulators.telegram import TelegramEmulator
from service.config import Settings
from service.telegram import build_bot, shut_down_session
from telemetry.metrics import Metrics


async def test_a_request_after_shutdown_fails_and_opens_no_session(
    emulator: TelegramEmulator, metrics: Metrics
) -> None:
    user = emulator.create_user("late")
    settings = Settings(bot_token=SecretStr(emulator.token), telegram_api_url=emulator.url)
    bot = build_bot(settings, metrics)
    await bot.send_message(user.chat_id, "before shutdown")
    await shut_down_session(bot)
    with pytest.raises(ClientConnectionError, match="shutting down"):
        await bot.send_message(user.chat_id, "a notification that outlived shutdown")
    gc.collect()  # an unclosed aiohttp session would warn here (an error under filterwarnings)
    assert [e.content for e in emulator.bot_messages(user.chat_id)] == ["before shutdown"]


async def test_parsed_response_types_outlive_garbage_collection(
    emulator: TelegramEmulator, metrics: Metrics
) -> None:
    """aiogram parametrises ``Response[T]`` per call and pydantic caches it only weakly: without
    the session holding it, a GC between two calls costs a schema build (~5 ms) on the next."""
    user = emulator.create_user("gc")
    settings = Settings(bot_token=SecretStr(emulator.token), telegram_api_url=emulator.url)
    bot = build_bot(settings, metrics)
    try:
        await bot.send_message(user.chat_id, "first")
        built = weakref.ref(Response[SendMessage.__returning__])
        gc.collect()
        assert built() is not None, "Response[Message] was freed: the next call rebuilds it"
        await bot.send_message(user.chat_id, "second")
        assert Response[SendMessage.__returning__] is built()
    finally:
        await shut_down_session(bot)
