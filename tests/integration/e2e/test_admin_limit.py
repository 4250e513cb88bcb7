"""Operators change the database session limit at run time from the chat, bounded by its ceiling."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from pydantic import SecretStr

from service.app import BotApp
from service.config import load_settings
from service.emulators.telegram import TelegramEmulator
from service.runtime import Telemetry

pytestmark = pytest.mark.integration

ADMIN = 424242


async def test_only_admins_change_the_live_session_limit_and_only_within_the_ceiling(tmp_path: Path) -> None:
    async with TelegramEmulator() as emulator:
        settings = load_settings({}, env_file=None).model_copy(
            update={
                "bot_token": SecretStr(emulator.token),
                "telegram_api_url": emulator.url,
                "sqlite_path": tmp_path / "db.sqlite3",
                "storage_dir": tmp_path / "storage",
                "admin_ids": (ADMIN,),
                "supabase_session_limit": 4,
                "supabase_session_limit_max": 6,
            }
        )
        telemetry = Telemetry.start(settings, service="bot", serve_metrics=False, configure_logging=False)
        app = BotApp(settings, telemetry)
        await app.start()
        serving = asyncio.get_running_loop().create_task(app.serve())
        registry = telemetry.metrics.registry
        try:
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
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            await app.stop()
            await telemetry.stop()
