"""Fixtures of the worker tests: a real SQLite repository on a clock the test moves, real local
storage, and aiogram's real session against the Telegram emulator (the fake sits at the Bot API
boundary). ``JobWorld`` builds jobs in any state and the runner, deliverer and sweeper around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession

from emulators.telegram import EmulatedUser, TelegramEmulator
from service.config import Settings, load_settings
from service.db import Job, new_job_id, open_repository, utc_now
from service.db.sql_repository import SqlRepository
from service.deps import Services
from service.storage import Storage, build_storage
from service.storage.keys import cleaned_key, input_key, profile_key
from service.telegram.api_session import TelemetryRequestMiddleware
from service.workers.delivery import Deliverer
from service.workers.runner import JobRunner
from service.workers.sweeper import Sweeper
from telemetry.metrics import Metrics
from telemetry.server import HealthState

CSV = b"id,name,amount\n1,alpha,10\n2,beta,-3\n2,beta,-3\n"


class FakeClock:
    """The repository's clock, moved by hand, so leases and thresholds need no sleeping."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Kicks:
    """A kick that records what it was asked to queue, and fails while ``failures`` is positive."""

    kicked: list[str] = field(default_factory=list)
    failures: int = 0
    fail_ids: set[str] = field(default_factory=set)

    async def __call__(self, job_id: str, carrier: dict[str, str]) -> None:
        if self.failures > 0 or job_id in self.fail_ids:
            self.failures -= 1
            raise ConnectionError("broker unreachable")
        self.kicked.append(job_id)


@dataclass
class JobWorld:
    settings: Settings
    metrics: Metrics
    repo: SqlRepository
    storage: Storage
    bot: Bot
    emulator: TelegramEmulator
    clock: FakeClock
    kicks: Kicks
    user: EmulatedUser

    @property
    def services(self) -> Services:
        return Services(
            settings=self.settings,
            metrics=self.metrics,
            repo=self.repo,
            storage=self.storage,
            enqueue=self.kicks,
            health=HealthState(),
        )

    def runner(self, **kwargs: Any) -> JobRunner:
        runner = JobRunner(
            self.services, self.bot, self.kicks, lease_seconds=self.settings.job_lease_seconds, **kwargs
        )
        runner.deliverer = self.deliverer()
        return runner

    def deliverer(self) -> Deliverer:
        return Deliverer(self.services, self.bot, retry_pause=lambda attempt: 0.0)

    def sweeper(self, **kwargs: Any) -> Sweeper:
        return Sweeper(self.services, self.kicks, self.deliverer(), **kwargs)

    async def job(self, *, queued: bool = True, file_name: str = "sales.csv") -> Job:
        """A job as the bot leaves it: input stored, row received (and queued)."""
        await self.repo.upsert_user(user_id=self.user.id, chat_id=self.user.chat_id, username=None)
        progress = await self.bot.send_message(self.user.chat_id, "Received")
        job_id = new_job_id()
        key = input_key(self.user.id, job_id)
        await self.storage.upload_bytes(key, CSV, "text/csv")
        job = await self.repo.create_job(
            job_id=job_id,
            user_id=self.user.id,
            chat_id=self.user.chat_id,
            file_name=file_name,
            file_size=len(CSV),
            input_key=key,
            progress_message_id=progress.message_id,
        )
        if not queued:
            return job
        queued_job = await self.repo.mark_queued(job.id)
        assert queued_job is not None
        return queued_job

    async def done_job(self) -> Job:
        """A job its worker finished (results stored) and then died before sending anything."""
        job = await self.job()
        claimed = await self.repo.claim_job(job.id, self.settings.job_lease_seconds)
        assert claimed is not None
        keys = cleaned_key(self.user.id, job.id), profile_key(self.user.id, job.id)
        await self.storage.upload_bytes(keys[0], b"id,name\r\n1,alpha\r\n", "text/csv")
        await self.storage.upload_bytes(keys[1], b"column,type\r\nid,integer\r\n", "text/csv")
        done = await self.repo.finish_job(
            job.id,
            cleaned_key=keys[0],
            profile_key=keys[1],
            summary={"rows_in": 3, "rows_out": 2, "columns": 3},
            attempt=claimed.token,
        )
        assert done is not None
        return done

    def documents(self) -> list[Any]:
        return [e for e in self.emulator.bot_messages(self.user.chat_id) if e.document is not None]

    def texts(self) -> list[str]:
        return [e.content for e in self.emulator.bot_messages(self.user.chat_id)]

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(seed=11) as emulator:
        yield emulator


@pytest.fixture
async def world(tmp_path: Path, metrics: Metrics, emulator: TelegramEmulator) -> AsyncIterator[JobWorld]:
    settings = load_settings(
        {
            "SQLITE_PATH": str(tmp_path / "csvbot.sqlite3"),
            "STORAGE_DIR": str(tmp_path / "storage"),
            "JOB_LEASE_SECONDS": "30",
            "JOB_QUEUED_STALE_SECONDS": "60",
        },
        env_file=None,
    )
    clock = FakeClock()
    repo = await open_repository(settings, metrics, clock=clock)
    assert isinstance(repo, SqlRepository)
    storage = build_storage(settings, metrics)
    await storage.start()
    session = AiohttpSession(api=emulator.api_server())
    session.middleware(TelemetryRequestMiddleware(metrics, max_attempts=2, backoff_base=0.01))
    bot = Bot(emulator.token, session=session)
    try:
        yield JobWorld(
            settings, metrics, repo, storage, bot, emulator, clock, Kicks(), emulator.create_user("ada")
        )
    finally:
        await bot.session.close()
        await storage.aclose()
        await repo.aclose()
