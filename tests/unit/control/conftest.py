"""The bot's real dispatcher on the Telegram emulator, a real SQLite repository, and storage of
each kind (the local folder and the Supabase backend against the Storage test server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from service.db import open_repository
from service.db.sql_repository import SqlRepository
from service.deps import Services
from service.storage import Storage
from telemetry.metrics import Metrics
from telemetry.server import HealthState
from tests.unit.bot.conftest import bot, emulator, make_message  # noqa: F401 - fixtures
from tests.unit.storage.conftest import spans, storage  # noqa: F401 - fixtures
from tests.unit.storage.support import settings_for


@pytest.fixture
async def services(storage: Storage, tmp_path: Path, metrics: Metrics) -> AsyncIterator[Services]:  # noqa: F811
    settings = settings_for(None, tmp_path / "unused").model_copy(
        update={"sqlite_path": tmp_path / "csvbot.sqlite3", "bot_token": None}
    )
    repo: SqlRepository = await open_repository(settings, metrics)  # type: ignore[assignment]

    async def enqueue(job_id: str, carrier: dict[str, str]) -> None:
        return None

    yield Services(
        settings=settings, metrics=metrics, repo=repo, storage=storage, enqueue=enqueue, health=HealthState()
    )
    await repo.aclose()
