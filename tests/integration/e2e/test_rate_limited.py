"""Telegram's flood control (429 with ``retry_after``) on a reply: the reply still arrives, no
sooner than Telegram asked, from the bot process and from the worker process alike."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from emulators.telegram import TelegramEmulator
from tests.integration.e2e.conftest import Stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

UPLOAD = b"city,visits\nOslo,3\nRiga,5\n"


@contextmanager
def refusal_times(emulator: TelegramEmulator, method: str) -> Iterator[list[float]]:
    """Wall-clock times at which the emulator answered ``method`` with 429."""
    stats = emulator.stats
    record = stats.record
    times: list[float] = []

    def recording(name: str, status: int) -> None:
        if name == method and status == 429:
            times.append(time.time())
        record(name, status)

    stats.record = recording  # type: ignore[method-assign]
    try:
        yield times
    finally:
        stats.record = record  # type: ignore[method-assign]


async def test_bot_reply_refused_with_429_arrives_after_retry_after(stack: Stack) -> None:
    """The bot's /start reply meets a 429 (retry_after=2); it is sent again, not before 2 s."""
    assert stack.bot is not None
    retried_before = await stack.bot.metric(
        "csvbot_telegram_requests_total", {"method": "sendMessage", "status": "retry_after"}
    )
    user = stack.emulator.create_user("Rita")
    stack.emulator.inject_rate_limit("sendMessage", retry_after=2, count=1)
    with refusal_times(stack.emulator, "sendMessage") as refused:
        stack.emulator.send_text(user.id, "/start")
        reply = await stack.emulator.wait_for_message(user.id, timeout=30)

    assert "Send me a CSV file" in reply.content
    assert len(refused) == 1
    assert reply.created_at - refused[0] >= 2.0
    retried_after = await stack.bot.metric(
        "csvbot_telegram_requests_total", {"method": "sendMessage", "status": "retry_after"}
    )
    assert retried_after == (retried_before or 0) + 1


async def test_worker_result_refused_with_429_arrives_after_retry_after(stack: Stack) -> None:
    """The worker's sendDocument with the cleaned file meets a 429 (retry_after=2); the document
    still arrives, once, not before 2 s; the worker counts the refusal."""
    [worker] = stack.live_workers
    retried_before = await worker.metric(
        "csvbot_telegram_requests_total", {"method": "sendDocument", "status": "retry_after"}
    )
    user = stack.emulator.create_user("Ola")
    stack.emulator.inject_rate_limit("sendDocument", retry_after=2, count=1)
    with refusal_times(stack.emulator, "sendDocument") as refused:
        await stack.emulator.send_document(user.id, UPLOAD, "visits.csv", mime_type="text/csv")
        result = await stack.emulator.wait_for_message(
            user.id,
            lambda e: e.document is not None and e.document.file_name == "visits.cleaned.csv",
            timeout=60,
        )

    assert len(refused) == 1
    assert result.created_at - refused[0] >= 2.0
    cleaned = [
        e
        for e in stack.emulator.bot_messages(user.id)
        if e.document and e.document.file_name == "visits.cleaned.csv"
    ]
    assert len(cleaned) == 1
    retried_after = await worker.metric(
        "csvbot_telegram_requests_total", {"method": "sendDocument", "status": "retry_after"}
    )
    assert retried_after == (retried_before or 0) + 1
