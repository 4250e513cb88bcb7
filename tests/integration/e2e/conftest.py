"""End-to-end fixtures: the bot and a worker as separate processes around real services.

Real: PostgreSQL (a throwaway database per test), Redis (a database index of our own for the whole
module), the two csvbot processes. Fakes only where the real thing cannot run here, both speaking
the real wire protocol: the Telegram Bot API emulator and the Supabase Storage test server, which
run in the test process together with a small OTLP receiver that collects both processes' spans.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio
import redis
import redis.asyncio as aioredis

from emulators.supabase_storage import SupabaseStorageServer
from emulators.telegram import TelegramEmulator
from service.workers.broker import CONSUMER_GROUP, STREAM
from tests.integration.e2e.otlp import OtlpReceiver
from tests.integration.e2e.processes import ServiceProcess

#: Short, so a killed worker's job is taken back within seconds (the default is 5 minutes).
JOB_LEASE_SECONDS = 5
#: Redis database indexes this module may claim; 0 stays for whoever uses the default URL.
_REDIS_DB_CANDIDATES = range(15, 0, -1)
_REDIS_LOCK_KEY = "csvbot-e2e:owner"
_REDIS_LOCK_SECONDS = 900  # the module needs ~1 minute; a crashed run frees its index in 15


def _with_db(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


@pytest.fixture(scope="module")
def e2e_redis_url(redis_url: str) -> Iterator[str]:
    """A Redis database index nobody else is using, claimed with a lock key for this module.

    The stream name (``csvbot:jobs``) is fixed, so isolation comes from the database index: two
    test runs on one machine never share a stream, and nothing of anyone else's is flushed.
    """
    owner = uuid.uuid4().hex
    for index in _REDIS_DB_CANDIDATES:
        url = _with_db(redis_url, f"/{index}")
        client = redis.Redis.from_url(url)
        try:
            if client.set(_REDIS_LOCK_KEY, owner, nx=True, ex=_REDIS_LOCK_SECONDS):
                break
        finally:
            client.close()
    else:
        raise AssertionError("every Redis database index 1-15 is claimed by another e2e run")
    try:
        yield url
    finally:
        client = redis.Redis.from_url(url)
        try:
            client.delete(STREAM, f"autoclaim:{CONSUMER_GROUP}:{STREAM}")
            if client.get(_REDIS_LOCK_KEY) == owner.encode():
                client.delete(_REDIS_LOCK_KEY)
        finally:
            client.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fresh_stream(e2e_redis_url: str) -> str:
    """The job stream emptied before a module starts, so nothing earlier is redelivered."""
    client = aioredis.Redis.from_url(e2e_redis_url)
    try:
        await client.delete(STREAM, f"autoclaim:{CONSUMER_GROUP}:{STREAM}")
    finally:
        await client.aclose()
    return e2e_redis_url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def database_dsn(pg_server_dsn: str) -> AsyncIterator[str]:
    """A database of the module's own, dropped afterwards (even with connections open)."""
    name = f"csvbot_e2e_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield _with_db(pg_server_dsn, f"/{name}")
    conn = await asyncpg.connect(pg_server_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def otlp() -> AsyncIterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def emulator(module_dir: Path) -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(seed=7, spill_dir=module_dir / "telegram") as emulator:
        yield emulator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def storage_server(module_dir: Path) -> AsyncIterator[SupabaseStorageServer]:
    async with SupabaseStorageServer(data_dir=module_dir / "supabase") as server:
        yield server


@dataclass
class Stack:
    """The running service: one bot process, worker processes, and what they talk to."""

    emulator: TelegramEmulator
    storage: SupabaseStorageServer
    otlp: OtlpReceiver
    database_dsn: str
    env: dict[str, str]
    root: Path
    bot: ServiceProcess | None = None
    workers: list[ServiceProcess] = field(default_factory=list)

    async def start_bot(self) -> ServiceProcess:
        bot = ServiceProcess("bot", "run", self.root / "bot", self.env)
        self.bot = bot
        await bot.start()
        await bot.wait_ready()
        return bot

    async def start_worker(self) -> ServiceProcess:
        name = f"worker{len(self.workers)}"
        worker = ServiceProcess(name, "worker", self.root / name, self.env)
        self.workers.append(worker)
        await worker.start()
        await worker.wait_ready()
        return worker

    @property
    def live_workers(self) -> list[ServiceProcess]:
        return [worker for worker in self.workers if worker.running]

    def processes(self) -> list[ServiceProcess]:
        return [p for p in [self.bot, *self.workers] if p is not None]

    async def stop(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.processes()), return_exceptions=True)

    def log_lines(self, job_id: str) -> dict[str, list[dict[str, Any]]]:
        """The JSON log lines naming ``job_id``, by process kind (``bot``, ``worker``)."""
        lines: dict[str, list[dict[str, Any]]] = {"bot": [], "worker": []}
        for process in self.processes():
            kind = "bot" if process is self.bot else "worker"
            lines[kind] += [line for line in process.log_lines() if line.get("job_id") == job_id]
        return lines

    async def job_row(self, job_id: str) -> dict[str, Any]:
        conn = await asyncpg.connect(self.database_dsn)
        try:
            row = await conn.fetchrow(
                "SELECT status, error_kind, attempts, trace_context FROM jobs WHERE id = $1", job_id
            )
        finally:
            await conn.close()
        assert row is not None, f"no job row {job_id}"
        return {**dict(row), "trace_context": json.loads(row["trace_context"])}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def service_stack(
    module_dir: Path,
    emulator: TelegramEmulator,
    storage_server: SupabaseStorageServer,
    otlp: OtlpReceiver,
    database_dsn: str,
    fresh_stream: str,
) -> AsyncIterator[Stack]:
    """Bot and one worker, started once per test module; every process ends with the module."""
    env = {
        "BOT_TOKEN": emulator.token,
        "TELEGRAM_API_URL": emulator.url,
        "SUPABASE_URL": storage_server.url,
        "SUPABASE_KEY": storage_server.key,
        "DATABASE_URL": database_dsn,
        "REDIS_URL": fresh_stream,
        "JOB_LEASE_SECONDS": str(JOB_LEASE_SECONDS),
        # A queued job whose task was lost is queued again after 5 s instead of a minute.
        "JOB_QUEUED_STALE_SECONDS": "5",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
        # 100 ms instead of 5 s between span exports, so a test sees spans while it runs.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "LOG_LEVEL": "INFO",
    }
    running = Stack(emulator, storage_server, otlp, database_dsn, env, module_dir / "processes")
    try:
        # In parallel: each process spends seconds importing before it does anything.
        started = await asyncio.gather(running.start_bot(), running.start_worker(), return_exceptions=True)
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def stack(service_stack: Stack) -> AsyncIterator[Stack]:
    """The module's running service, with a live worker and no faults left from earlier tests."""
    if not service_stack.live_workers:
        await service_stack.start_worker()
    yield service_stack
    service_stack.emulator.clear_faults()
    service_stack.storage.faults.clear()
    for process in service_stack.processes():
        # Printed for the record; pytest shows it only when the test failed.
        print(f"--- {process.name} (exit {process.proc and process.proc.returncode}) stderr tail:")
        print(process.stderr_tail())
