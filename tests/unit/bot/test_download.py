"""The user's file download: aiogram's real ``Bot.download`` against the emulator, whose file GET
is outside the session middleware — so its 429s, 5xx and 404s are this module's to handle."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram import Bot

from emulators.telegram import TelegramEmulator
from service.errors import TelegramFileGoneError, TelegramUnavailableError
from service.telegram import download
from service.telegram.download import download_file
from telemetry.metrics import Metrics

DATA = b"a,b\n1,2\n"


def downloads(metrics: Metrics, status: str) -> float | None:
    return metrics.registry.get_sample_value(
        "csvbot_telegram_requests_total", {"method": "downloadFile", "status": status}
    )


@pytest.fixture(autouse=True)
def fast_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download, "MIN_RETRY_AFTER_SECONDS", 0.01)
    monkeypatch.setattr(download, "DOWNLOAD_BACKOFF_BASE_SECONDS", 0.01)
    monkeypatch.setattr(download, "DOWNLOAD_BACKOFF_CAP_SECONDS", 0.02)


async def _file_id(emulator: TelegramEmulator) -> str:
    user = emulator.create_user()
    message = await emulator.send_document(user.id, DATA, "data.csv")
    assert message.document is not None
    return message.document.file_id


async def test_a_long_run_of_429s_on_the_file_transfer_is_ridden_out(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics, tmp_path: Path
) -> None:
    """Twelve refusals in a row (a storm refusing half the calls makes runs of five common
    enough to lose one upload in thirty to a fixed five attempts)."""
    file_id = await _file_id(emulator)
    emulator.inject_rate_limit("downloadFile", count=12)
    target = tmp_path / "in.csv"

    await download_file(bot, metrics, file_id, target, "data.csv")

    assert target.read_bytes() == DATA
    assert emulator.stats.calls("downloadFile", 429) == 12
    assert downloads(metrics, "retry_after") == 12
    assert downloads(metrics, "ok") == 1


async def test_5xx_on_the_file_transfer_are_retried(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics, tmp_path: Path
) -> None:
    file_id = await _file_id(emulator)
    emulator.inject_server_error("downloadFile", status=502, count=6)
    target = tmp_path / "in.csv"

    await download_file(bot, metrics, file_id, target, "data.csv")

    assert target.read_bytes() == DATA
    assert downloads(metrics, "server_error") == 6


async def test_a_file_telegram_no_longer_has_is_refused_at_once_with_its_name(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics, tmp_path: Path
) -> None:
    """getFile "wrong file_id" (a 400): asking again changes nothing, so nothing is retried."""
    with pytest.raises(TelegramFileGoneError) as caught:
        await download_file(bot, metrics, "no-such-file", tmp_path / "in.csv", "report.csv")

    assert "report.csv" in (caught.value.user_message or "")
    assert "send it again" in (caught.value.user_message or "")
    assert emulator.stats.calls("getFile") == 1
    assert downloads(metrics, "client_error") == 1


async def test_a_transfer_refused_past_the_budget_ends_in_a_specific_message(
    emulator: TelegramEmulator,
    bot: Bot,
    metrics: Metrics,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(download, "DOWNLOAD_RETRY_BUDGET_SECONDS", 0.3)
    file_id = await _file_id(emulator)
    emulator.inject_rate_limit("downloadFile")  # until removed

    with pytest.raises(TelegramUnavailableError) as caught:
        await download_file(bot, metrics, file_id, tmp_path / "in.csv", "report.csv")

    assert "report.csv" in (caught.value.user_message or "")
    assert (downloads(metrics, "retry_after") or 0) >= 2
