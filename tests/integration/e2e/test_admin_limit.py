"""Operators change the database session limit at run time from the chat, bounded by its ceiling."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.telegram import TelegramEmulator
from tests.integration.e2e.embedded import embedded_bot

pytestmark = pytest.mark.integration

ADMIN = 424242


async def test_only_admins_change_the_live_session_limit_and_only_within_the_ceiling(tmp_path: Path) -> None:
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
        assert "Session limit is 4 (ceiling 6)" in await say(admin.id, "/limit")
        assert "4 → 5" in await say(admin.id, "/limit 5")
        assert registry.get_sample_value("csvbot_db_session_limit") == 5
        changes = {"source": "operator", "direction": "up"}
        assert registry.get_sample_value("csvbot_db_session_limit_changes_total", changes) == 1
        # Above the ceiling or zero: refused with the allowed range, the limit unchanged.
        assert "Usage: /limit <1..6>" in await say(admin.id, "/limit 7")
        assert "Usage: /limit <1..6>" in await say(admin.id, "/limit 0")
        assert app.repo is not None and app.repo.session_limit == 5
