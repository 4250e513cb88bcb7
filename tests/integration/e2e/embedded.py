"""``csvbot run`` inside the test process on the embedded defaults, pointed at an emulator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from emulators.telegram import TelegramEmulator
from service.app import BotApp
from service.config import load_settings
from service.runtime import Telemetry


@contextlib.asynccontextmanager
async def embedded_bot(emulator: TelegramEmulator, tmp_path: Path, **settings: Any) -> AsyncIterator[BotApp]:
    """A started, serving BotApp (SQLite and storage under ``tmp_path``); ``settings`` override."""
    config = load_settings({}, env_file=None).model_copy(
        update={
            "bot_token": SecretStr(emulator.token),
            "telegram_api_url": emulator.url,
            "sqlite_path": tmp_path / "db.sqlite3",
            "storage_dir": tmp_path / "storage",
            **settings,
        }
    )
    telemetry = Telemetry.start(config, service="bot", serve_metrics=False, configure_logging=False)
    app = BotApp(config, telemetry)
    await app.start()
    serving = asyncio.get_running_loop().create_task(app.serve())
    try:
        yield app
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await app.stop()
        await telemetry.stop()
