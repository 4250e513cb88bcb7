"""TelemetryRequestMiddleware: every Bot API call measured; 429 waited out, 5xx retried with
backoff, 4xx never retried — through aiogram's real HTTP session against the emulator."""

from __future__ import annotations

import time

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)

from emulators.telegram import TelegramEmulator
from service.telegram.api_session import TelemetryRequestMiddleware, method_label
from telemetry.metrics import Metrics


def requests(metrics: Metrics, method: str, status: str) -> float | None:
    return metrics.registry.get_sample_value(
        "csvbot_telegram_requests_total", {"method": method, "status": status}
    )


def timed_calls(metrics: Metrics, method: str) -> float | None:
    return metrics.registry.get_sample_value(
        "csvbot_telegram_request_duration_seconds_count", {"method": method}
    )


async def test_a_429_is_waited_out_for_retry_after_then_the_call_succeeds(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics
) -> None:
    user = emulator.create_user()
    emulator.inject_rate_limit("sendMessage", retry_after=1, count=1)
    started = time.monotonic()
    sent = await bot.send_message(user.chat_id, "hello")
    elapsed = time.monotonic() - started

    assert sent.text == "hello"
    assert elapsed >= 1.0
    assert emulator.stats.calls("sendMessage", 429) == 1
    assert emulator.stats.calls("sendMessage", 200) == 1
    assert [entry.text for entry in emulator.bot_messages(user.chat_id)] == ["hello"]
    assert requests(metrics, "sendMessage", "retry_after") == 1
    assert requests(metrics, "sendMessage", "ok") == 1
    assert timed_calls(metrics, "sendMessage") == 2


async def test_a_retry_after_beyond_the_cap_is_not_waited_for(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics
) -> None:
    """Telegram asking for minutes: the caller gets the error now instead of a hung handler."""
    user = emulator.create_user()
    emulator.inject_rate_limit("sendMessage", retry_after=3600, count=1)
    started = time.monotonic()
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(user.chat_id, "hello")

    assert refused.value.retry_after == 3600
    assert time.monotonic() - started < 5
    assert emulator.stats.calls("sendMessage") == 1
    assert requests(metrics, "sendMessage", "retry_after") == 1


async def test_server_errors_are_retried_until_the_call_succeeds(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics
) -> None:
    user = emulator.create_user()
    emulator.inject_server_error("sendMessage", status=502, count=2)
    sent = await bot.send_message(user.chat_id, "hello")

    assert sent.text == "hello"
    assert emulator.stats.calls("sendMessage", 502) == 2
    assert requests(metrics, "sendMessage", "server_error") == 2
    assert requests(metrics, "sendMessage", "ok") == 1


async def test_server_errors_give_up_after_max_attempts(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics
) -> None:
    user = emulator.create_user()
    emulator.inject_server_error("sendMessage", status=500)
    with pytest.raises(TelegramServerError):
        await bot.send_message(user.chat_id, "hello")

    assert emulator.stats.calls("sendMessage") == 3  # the bot fixture's max_attempts
    assert requests(metrics, "sendMessage", "server_error") == 3
    assert emulator.bot_messages(user.chat_id) == []


async def test_client_errors_are_not_retried(emulator: TelegramEmulator, bot: Bot, metrics: Metrics) -> None:
    """A 400 will fail the same way again: one call, counted as client_error."""
    user = emulator.create_user()
    with pytest.raises(TelegramBadRequest):
        await bot.edit_message_text(text="new", chat_id=user.chat_id, message_id=999)

    assert emulator.stats.calls("editMessageText") == 1
    assert requests(metrics, "editMessageText", "client_error") == 1
    assert requests(metrics, "editMessageText", "ok") == 0


async def test_long_polling_leaves_server_errors_to_the_polling_loop(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics
) -> None:
    """getUpdates is not retried here: aiogram's polling loop has its own backoff."""
    emulator.inject_server_error("getUpdates", status=502, count=1)
    with pytest.raises(TelegramServerError):
        await bot.get_updates(timeout=0)

    assert emulator.stats.calls("getUpdates") == 1
    assert requests(metrics, "getUpdates", "server_error") == 1


async def test_methods_outside_the_catalogue_are_counted_as_other(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics
) -> None:
    """The method label is a closed set: an unlisted method cannot create a new series."""
    user = emulator.create_user()
    with pytest.raises(TelegramNotFound):  # the emulator does not implement it: Telegram's 404
        await bot.get_chat_member_count(user.chat_id)

    assert method_label("getChatMemberCount") == "other"
    assert requests(metrics, "other", "client_error") == 1
    assert timed_calls(metrics, "other") == 1
    assert (
        metrics.registry.get_sample_value(
            "csvbot_telegram_request_duration_seconds_count", {"method": "getChatMemberCount"}
        )
        is None
    )


async def test_a_429_storm_longer_than_max_attempts_is_still_waited_out(
    bot: Bot, emulator: TelegramEmulator, metrics: Metrics
) -> None:
    """429 means "not performed": it is retried past max_attempts (3 here) within the wait budget."""
    user = emulator.create_user("storm")
    emulator.inject_rate_limit("sendMessage", retry_after=1, count=4)
    started = time.monotonic()
    await bot.send_message(user.id, "still delivered")
    assert time.monotonic() - started >= 4
    assert emulator.bot_messages(user.id)[-1].content == "still delivered"
    assert requests(metrics, "sendMessage", "retry_after") == 4


async def test_a_429_storm_beyond_the_wait_budget_is_given_up(
    emulator: TelegramEmulator, metrics: Metrics
) -> None:
    session = AiohttpSession(api=emulator.api_server())
    session.middleware(TelemetryRequestMiddleware(metrics, max_flood_wait=1.5))
    budget_bot = Bot(emulator.token, session=session)
    user = emulator.create_user("patient")
    emulator.inject_rate_limit("sendMessage", retry_after=1, count=5)
    try:
        with pytest.raises(TelegramRetryAfter):
            await budget_bot.send_message(user.id, "never")
    finally:
        await budget_bot.session.close()
    assert (
        requests(metrics, "sendMessage", "retry_after") == 2
    )  # waited 1 s once; the next would exceed 1.5 s
