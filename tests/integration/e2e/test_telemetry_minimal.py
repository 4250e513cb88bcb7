"""TELEMETRY=minimal (for measuring what telemetry costs) still serves commands and uploads."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.telegram import TelegramEmulator
from tests.integration.e2e.embedded import embedded_bot
from tests.integration.e2e.polling import eventually

pytestmark = pytest.mark.integration


async def test_commands_and_an_upload_are_answered_without_the_telemetry_middleware(tmp_path: Path) -> None:
    emulator = TelegramEmulator(spill_dir=tmp_path / "telegram")
    await emulator.start()
    try:
        async with embedded_bot(emulator, tmp_path, telemetry="minimal") as app:
            user = emulator.create_user("min")
            emulator.send_text(user.id, "/help")
            await emulator.send_document(user.id, b"a,b\n1,2\n3,4\n", "t.csv", mime_type="text/csv")

            def answered() -> bool:
                entries = emulator.bot_messages(user.id)
                return any(e.document is not None for e in entries) and len(entries) >= 2

            await eventually(answered, within=60, what="a reply to /help and the result document")
            updates = app.telemetry.metrics.registry.get_sample_value(
                "csvbot_updates_total", {"handler": "help", "outcome": "ok"}
            )
            assert updates == 0  # nothing measured per update in this mode
    finally:
        await emulator.stop()
