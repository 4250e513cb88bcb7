"""The Postgres session pool, watched from the server side through pg_stat_activity."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram.filters import CommandObject
from prometheus_client import CollectorRegistry

from service.bot.admin import on_limit
from service.db.postgres import PostgresRepository
from service.errors import PoolExhaustedError
from tests.integration.db.conftest import RepoFactory, count_sessions, eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("backend", ["postgres"])]


async def postgres_repo(make_repo: RepoFactory, **overrides: Any) -> PostgresRepository:
    repo = await make_repo(**overrides)
    assert isinstance(repo, PostgresRepository)
    return repo


class SessionWatcher:
    """Samples this test's server sessions while callers run; remembers the most seen at once."""

    def __init__(self, server_dsn: str, application_name: str) -> None:
        self._dsn = server_dsn
        self._name = application_name
        self.most = 0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            self.most = max(self.most, await count_sessions(self._dsn, self._name))

    def __enter__(self) -> SessionWatcher:
        self._task = asyncio.create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def hold_sessions(repo: PostgresRepository, callers: int, seconds: float) -> None:
    async def hold() -> None:
        async with repo.pool.session() as conn:
            await conn.execute("SELECT pg_sleep($1)", seconds)

    await asyncio.gather(*(hold() for _ in range(callers)))


async def test_twenty_concurrent_callers_never_open_more_sessions_than_the_limit(
    make_repo: RepoFactory, pg_server_dsn: str, application_name: str, registry: CollectorRegistry
) -> None:
    repo = await postgres_repo(make_repo, supabase_session_limit=3)
    with SessionWatcher(pg_server_dsn, application_name) as watcher:
        await hold_sessions(repo, callers=20, seconds=0.15)
    assert watcher.most == 3
    assert repo.pool.open_connections == 3
    assert (registry.get_sample_value("csvbot_db_pool_wait_seconds_count") or 0) >= 20


async def test_all_sessions_held_gives_pool_exhausted_and_opens_no_extra_session(
    make_repo: RepoFactory, pg_server_dsn: str, application_name: str, registry: CollectorRegistry
) -> None:
    repo = await postgres_repo(make_repo, supabase_session_limit=2, db_acquire_timeout_seconds=0.3)
    holders = asyncio.create_task(hold_sessions(repo, callers=2, seconds=2))
    await eventually(lambda: _sessions_are(pg_server_dsn, application_name, 2))
    with pytest.raises(PoolExhaustedError):
        await repo.health()
    assert await count_sessions(pg_server_dsn, application_name) == 2
    assert registry.get_sample_value("csvbot_db_pool_acquire_timeouts_total") == 1
    await holders


async def test_the_pool_grows_and_shrinks_while_the_service_runs(
    make_repo: RepoFactory, pg_server_dsn: str, application_name: str
) -> None:
    repo = await postgres_repo(make_repo, supabase_session_limit=2)
    with SessionWatcher(pg_server_dsn, application_name) as watcher:
        await hold_sessions(repo, callers=6, seconds=0.1)
    assert watcher.most == 2

    await repo.resize_pool(5)
    with SessionWatcher(pg_server_dsn, application_name) as watcher:
        await hold_sessions(repo, callers=10, seconds=0.15)
    assert watcher.most == 5

    # Shrink while every session is busy: in-flight work finishes, then the surplus closes.
    release = asyncio.Event()

    async def busy() -> None:
        async with repo.pool.session() as conn:
            await conn.execute("SELECT 1")
            await release.wait()

    busy_tasks = [asyncio.create_task(busy()) for _ in range(5)]
    await eventually(lambda: _sessions_are(pg_server_dsn, application_name, 5))
    await repo.resize_pool(1)
    assert await count_sessions(pg_server_dsn, application_name) == 5  # nobody was cut off
    release.set()
    await asyncio.gather(*busy_tasks)
    await eventually(lambda: _sessions_are(pg_server_dsn, application_name, 1))
    assert repo.pool.open_connections == 1
    with SessionWatcher(pg_server_dsn, application_name) as watcher:
        await hold_sessions(repo, callers=4, seconds=0.1)
    assert watcher.most == 1


async def test_shrinking_closes_idle_sessions_at_once(
    make_repo: RepoFactory, pg_server_dsn: str, application_name: str
) -> None:
    repo = await postgres_repo(make_repo, supabase_session_limit=4)
    await hold_sessions(repo, callers=4, seconds=0.05)
    assert await count_sessions(pg_server_dsn, application_name) == 4
    await repo.resize_pool(2)
    await eventually(lambda: _sessions_are(pg_server_dsn, application_name, 2))
    assert repo.pool.open_connections == 2


@pytest.mark.parametrize(("prepared", "expect_named_statements"), [(True, True), (False, False)])
async def test_prepared_statements_can_be_turned_off_for_the_transaction_pooler(
    make_repo: RepoFactory, prepared: bool, expect_named_statements: bool
) -> None:
    """With DB_PREPARED_STATEMENTS=false no named statement outlives a query (pgbouncer-safe)."""
    repo = await postgres_repo(make_repo, supabase_session_limit=1, db_prepared_statements=prepared)
    await repo.upsert_user(user_id=1, chat_id=1, username=None)
    job = await repo.create_job(user_id=1, chat_id=1, file_name="a.csv", file_size=1)
    await repo.get_job(job.id)
    async with repo.pool.session() as conn:  # the same (only) connection the queries used
        named = await conn.fetchval("SELECT count(*) FROM pg_prepared_statements")
    assert (named > 0) is expect_named_statements


async def _sessions_are(server_dsn: str, application_name: str, expected: int) -> bool:
    return await count_sessions(server_dsn, application_name) == expected


async def test_limit_answers_from_the_reserve_while_the_pool_is_pinned(
    make_repo: RepoFactory, pg_server_dsn: str, application_name: str
) -> None:
    """An operator sends /limit because the pool is starved: the answer must not be "busy"."""
    repo = await postgres_repo(make_repo, supabase_session_limit=1, db_acquire_timeout_seconds=0.3)
    holder = asyncio.create_task(hold_sessions(repo, callers=1, seconds=3))
    await eventually(lambda: _sessions_are(pg_server_dsn, application_name, 1))
    answers: list[str] = []

    async def answer(text: str, **_: Any) -> None:
        answers.append(text)

    message = SimpleNamespace(from_user=SimpleNamespace(id=7), answer=answer)
    services = SimpleNamespace(
        settings=SimpleNamespace(admin_ids=(7,), session_limit_tuning="off"), repo=repo, budget=None
    )
    await on_limit(message, CommandObject(command="limit"), services)  # type: ignore[arg-type]
    assert len(answers) == 1 and "limit" in answers[0].lower(), answers
    await holder
