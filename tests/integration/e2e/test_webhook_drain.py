"""Webhook mode drains like polling: updates answered 200 and still being handled when the bot is
told to stop finish before storage, the database and the Bot session close."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import SecretStr

from emulators.telegram import TelegramEmulator, TranscriptEntry
from tests.integration.e2e.embedded import embedded_bot
from tests.integration.e2e.polling import eventually

pytestmark = pytest.mark.integration

UPLOADS = 5
#: Holds every upload inside its handler (downloading) when the shutdown begins.
GET_FILE_DELAY_SECONDS = 1.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _progress(emulator: TelegramEmulator, chat_id: int) -> TranscriptEntry | None:
    entries = [e for e in emulator.bot_messages(chat_id) if e.document is None]
    return entries[0] if entries else None


async def test_webhook_shutdown_mid_load_lets_every_update_in_flight_finish(tmp_path: Path) -> None:
    port = _free_port()
    webhook = {
        "webhook_url": f"http://127.0.0.1:{port}",
        "webhook_secret": SecretStr("drain-secret"),
        "webhook_port": port,
    }
    async with TelegramEmulator() as emulator:
        users = [emulator.create_user(f"w{i}") for i in range(UPLOADS)]
        async with embedded_bot(emulator, tmp_path, **webhook):
            await eventually(lambda: emulator.snapshot().get("webhook_url"), within=10, what="setWebhook")
            emulator.inject_latency(["getFile"], seconds=GET_FILE_DELAY_SECONDS)
            for i, user in enumerate(users):
                await emulator.send_document(
                    user.id, f"id\n{i}\n".encode(), f"f{i}.csv", mime_type="text/csv"
                )
            # Every update has been answered and its handler is inside the slow download.
            await eventually(
                lambda: all(_progress(emulator, u.id) for u in users), within=10, what="every 'Got …' reply"
            )
        # The app has stopped: each upload got past "Saving it…" (queued, or further).
        texts = [entry.content for u in users if (entry := _progress(emulator, u.id)) is not None]
        assert all("Saving" not in text for text in texts), texts
        assert all(("Queued" in text or "Job " in text) for text in texts), texts
