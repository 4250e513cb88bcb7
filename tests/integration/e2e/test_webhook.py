"""Webhook mode: Telegram (the emulator) pushes updates; the secret-token header is checked."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from emulators.telegram import TelegramEmulator
from tests.integration.e2e.embedded import embedded_bot

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_answers_pushed_updates_and_refuses_a_wrong_secret(tmp_path: Path) -> None:
    port = _free_port()
    webhook = {
        "webhook_url": f"http://127.0.0.1:{port}",
        "webhook_secret": SecretStr("s3cret-token"),
        "webhook_port": port,
    }
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path, **webhook):
        user = emulator.create_user("wanda")
        # The bot registers its webhook with the emulator before it can be reached.
        for _ in range(100):
            if emulator.snapshot().get("webhook_url"):
                break
            await asyncio.sleep(0.05)
        emulator.send_text(user.id, "/help")
        reply = await emulator.wait_for_message(user.id, timeout=10)
        assert "How it works" in reply.content

        async with httpx.AsyncClient(timeout=5) as client:
            forged = await client.post(
                f"http://127.0.0.1:{port}/telegram",
                json={
                    "update_id": 999,
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "chat": {"id": 1, "type": "private"},
                        "text": "/start",
                    },
                },
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            )
        assert forged.status_code == 401
