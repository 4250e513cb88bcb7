"""Webhook mode: Telegram (the emulator) pushes updates; the secret-token header is checked."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from service.app import BotApp
from service.config import load_settings
from service.emulators.telegram import TelegramEmulator
from service.runtime import Telemetry

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_answers_pushed_updates_and_refuses_a_wrong_secret(tmp_path: Path) -> None:
    port = _free_port()
    async with TelegramEmulator() as emulator:
        settings = load_settings({}, env_file=None).model_copy(
            update={
                "bot_token": SecretStr(emulator.token),
                "telegram_api_url": emulator.url,
                "webhook_url": f"http://127.0.0.1:{port}",
                "webhook_secret": SecretStr("s3cret-token"),
                "webhook_port": port,
                "sqlite_path": tmp_path / "db.sqlite3",
                "storage_dir": tmp_path / "storage",
            }
        )
        telemetry = Telemetry.start(settings, service="bot", serve_metrics=False, configure_logging=False)
        app = BotApp(settings, telemetry)
        await app.start()
        serving = asyncio.get_running_loop().create_task(app.serve())
        try:
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
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            await app.stop()
            await telemetry.stop()
