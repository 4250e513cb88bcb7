"""Operators read and change the session limit from the chat; on SQLite there is nothing to tune."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.telegram import TelegramEmulator
from tests.integration.e2e.embedded import embedded_bot

pytestmark = pytest.mark.integration

ADMIN = 424242


async def test_on_sqlite_limit_says_there_is_one_connection_and_changes_nothing(tmp_path: Path) -> None:
    async with (
        TelegramEmulator() as emulator,
        embedded_bot(
            emulator, tmp_path, admin_ids=(ADMIN,), supabase_session_limit=4, supabase_session_limit_max=6
        ) as app,
    ):
        registry = app.telemetry.metrics.registry
        admin = emulator.create_user("ops", user_id=ADMIN)
        stranger = emulator.create_user("mallory")

        async def say(user_id: int, text: str) -> str:
            sent = emulator.send_text(user_id, text)
            reply = await emulator.wait_for_message(user_id, lambda e: e.seq > sent.seq, timeout=10)
            return reply.content

        assert "for the bot's operators" in await say(stranger.id, "/limit 5")
        for command in ("/limit", "/limit 5"):
            reply = await say(admin.id, command)
            assert "SQLite" in reply and "no session limit to tune" in reply, reply
        assert app.repo is not None and app.repo.session_limit == 4
        assert registry.get_sample_value("csvbot_db_session_limit") == 4
        for direction in ("up", "down", "hold"):
            labels = {"source": "operator", "direction": direction}
            assert registry.get_sample_value("csvbot_db_session_limit_changes_total", labels) == 0
