"""``csvbot run`` stops cleanly on SIGTERM (every deploy sends one): exit status 0 and no error
in its log — an error line on every deploy would page someone for nothing."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulators.telegram import TelegramEmulator
from tests.integration.e2e.processes import ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(spill_dir=tmp_path / "telegram") as emulator:
        yield emulator


async def test_sigterm_ends_the_bot_with_status_0_and_no_error_logged(
    tmp_path: Path, emulator: TelegramEmulator
) -> None:
    # Embedded defaults: SQLite and local storage under the process's folder, in-process worker.
    env = {"BOT_TOKEN": emulator.token, "TELEGRAM_API_URL": emulator.url}
    bot = ServiceProcess("bot", "run", tmp_path / "bot", env)
    try:
        await bot.start()
        await bot.wait_ready()
        user = emulator.create_user("Tess")
        emulator.send_text(user.id, "/start")
        await emulator.wait_for_message(user.id, timeout=10)
        polls = emulator.stats.calls("getUpdates")
        # The bot is now inside a long poll: the moment a shutdown is most likely to go wrong.
        await asyncio.sleep(0.5)
        assert bot.proc is not None
        bot.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.proc.wait(), 15) == 0, bot.stderr_tail()
    finally:
        await bot.stop()

    errors = [line for line in bot.log_lines() if line["level"] in ("ERROR", "CRITICAL")]
    assert errors == []
    assert any(line["message"] == "Polling stopped" for line in bot.log_lines())
    # No poll was started after the shutdown began (one may have been answered as it ended).
    assert emulator.stats.calls("getUpdates") <= polls + 1
