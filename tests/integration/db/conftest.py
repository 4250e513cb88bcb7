"""Database fixtures: a throwaway PostgreSQL database per test session, and repositories.

``pg_database_dsn`` creates a database with a random name on the server at ``CSVBOT_TEST_PG_DSN``
(see ``tests/conftest.py``) and drops it when the session ends; other suites may reuse it.
Each repository test gets empty tables and a unique ``application_name``, so its sessions can be
counted in ``pg_stat_activity`` without seeing anyone else's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service.config import Settings
from service.db import open_repository, utc_now
from service.db.sql_repository import SqlRepository
from telemetry.metrics import Metrics

BACKENDS = ("sqlite", "postgres")


def dsn_for_database(server_dsn: str, database: str) -> str:
    """``server_dsn`` with its database name replaced."""
    parts = urlsplit(server_dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def create_database(server_dsn: str) -> str:
    """Create an empty database with a random name; its DSN."""
    name = f"csvbot_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return dsn_for_database(server_dsn, name)


async def drop_database(server_dsn: str, dsn: str) -> None:
    name = urlsplit(dsn).path.lstrip("/")
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database_dsn(pg_server_dsn: str) -> Iterator[str]:
    """A throwaway database for this test session (created and dropped on their own loops)."""
    dsn = asyncio.run(create_database(pg_server_dsn))
    yield dsn
    asyncio.run(drop_database(pg_server_dsn, dsn))


@pytest.fixture
async def empty_pg_dsn(pg_server_dsn: str) -> AsyncIterator[str]:
    """A database of its own for one test (migration tests need one without tables)."""
    dsn = await create_database(pg_server_dsn)
    yield dsn
    await drop_database(pg_server_dsn, dsn)


class FakeClock:
    """A clock the test moves by hand, so lease expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


@pytest.fixture
def application_name() -> str:
    return f"csvbot-test-{uuid.uuid4().hex[:8]}"


RepoFactory = Callable[..., Awaitable[SqlRepository]]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_repo(
    backend: str,
    tmp_path: Path,
    pg_database_dsn: str,
    metrics: Metrics,
    clock: FakeClock,
    spans: tuple[TracerProvider, InMemorySpanExporter],
    application_name: str,
) -> AsyncIterator[RepoFactory]:
    """Open repositories of ``backend`` (same database, same metrics); closes and empties them."""
    opened: list[SqlRepository] = []

    async def make(**overrides: Any) -> SqlRepository:
        values: dict[str, Any] = {
            "database_url": pg_database_dsn if backend == "postgres" else None,
            "sqlite_path": tmp_path / "data" / "csvbot.sqlite3",
            "supabase_session_limit": 4,
            "supabase_session_limit_max": 10,
            "db_acquire_timeout_seconds": 10.0,
            "job_max_attempts": 3,
            **overrides,
        }
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        repo = await open_repository(
            settings,
            metrics,
            application_name=application_name,
            clock=clock,
            tracer_provider=spans[0],
        )
        assert isinstance(repo, SqlRepository)
        opened.append(repo)
        return repo

    yield make
    for repo in opened:
        await repo.aclose()
    if backend == "postgres" and opened:
        conn = await asyncpg.connect(pg_database_dsn)
        try:
            await conn.execute("TRUNCATE jobs, users CASCADE")  # and every table referencing them
        finally:
            await conn.close()


@pytest.fixture
async def repo(make_repo: RepoFactory) -> SqlRepository:
    return await make_repo()


async def count_sessions(server_dsn: str, application_name: str) -> int:
    """Server sessions whose application_name is ``application_name``, seen by pg_stat_activity."""
    conn = await asyncpg.connect(server_dsn)
    try:
        value = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", application_name
        )
    finally:
        await conn.close()
    return int(value)


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Wait until ``check()`` is true (server-side state such as a closed backend lags a little)."""
    async with asyncio.timeout(within):
        # Polling: server-side state (pg_stat_activity) announces nothing a test could await.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
