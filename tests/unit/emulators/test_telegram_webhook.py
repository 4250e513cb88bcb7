"""Webhook mode: the emulator POSTs updates to an aiohttp endpoint instead of queueing them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from emulators.telegram import TelegramEmulator

SECRET = "s3cret-Token_1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        yield emulator


@pytest.fixture
async def bot(emulator: TelegramEmulator) -> AsyncIterator[Bot]:
    bot = Bot(emulator.token, session=AiohttpSession(api=emulator.api_server()))
    yield bot
    await bot.session.close()


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def _start_dispatcher(*, reply_in_response: bool) -> Dispatcher:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def on_start(message: Message) -> SendMessage | None:
        reply = message.answer("Welcome via webhook")
        if reply_in_response:
            return reply  # aiogram puts the call in the webhook's HTTP response
        await reply
        return None

    return dispatcher


@pytest.mark.parametrize("reply_in_response", [False, True])
async def test_aiogram_webhook_handler_receives_updates_with_secret(
    emulator: TelegramEmulator, bot: Bot, reply_in_response: bool
) -> None:
    """aiogram's SimpleRequestHandler, checking the secret header, answers /start.

    With reply_in_response aiogram returns the sendMessage call in the webhook's HTTP response
    (multipart), and the emulator executes it as Telegram does.
    """
    app = web.Application()
    SimpleRequestHandler(
        _start_dispatcher(reply_in_response=reply_in_response),
        bot,
        secret_token=SECRET,
        handle_in_background=not reply_in_response,
    ).register(app, path="/webhook")
    runner, base = await _serve(app)
    try:
        await bot.set_webhook(f"{base}/webhook", secret_token=SECRET)
        user = emulator.create_user()
        emulator.send_text(user.id, "/start")
        reply = await emulator.wait_for_message(user.chat_id, timeout=5)
    finally:
        await runner.cleanup()

    assert reply.text == "Welcome via webhook"
    assert emulator.stats.calls("sendMessage", 200) == 1
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_failing_webhook_is_retried_and_reported(emulator: TelegramEmulator, bot: Bot) -> None:
    """A failing webhook keeps the update pending, shows last_error_message, and is retried."""
    seen: list[tuple[str | None, int]] = []
    failures_left = 2

    async def endpoint(request: web.Request) -> web.Response:
        nonlocal failures_left
        body = await request.json()
        seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body["update_id"]))
        if failures_left:
            failures_left -= 1
            return web.Response(status=500)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    runner, base = await _serve(app)
    try:
        await bot.set_webhook(f"{base}/hook", secret_token=SECRET)
        user = emulator.create_user()
        emulator.send_text(user.id, "hello")
        for _ in range(200):
            if len(seen) == 3:
                break
            await asyncio.sleep(0.02)
        info = await bot.get_webhook_info()
    finally:
        await runner.cleanup()

    assert [secret for secret, _ in seen] == [SECRET] * 3
    assert len({update_id for _, update_id in seen}) == 1
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.pending_update_count == 0


async def test_get_updates_conflicts_while_webhook_is_set(bot: Bot) -> None:
    """getUpdates fails with 409 while a webhook is set and works again after deleteWebhook."""
    await bot.set_webhook("http://127.0.0.1:9/unused", drop_pending_updates=True)

    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == []
    assert (await bot.get_webhook_info()).url == ""


async def test_webhook_must_stay_on_loopback(bot: Bot) -> None:
    """The emulator refuses webhooks that would send traffic off the machine."""
    with pytest.raises(TelegramBadRequest, match="bad webhook"):
        await bot.set_webhook("https://example.com/hook")
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="no spaces allowed")
