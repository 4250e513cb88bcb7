"""A database that goes away and comes back: fail fast with a typed error, recover without restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from service.db.postgres import PostgresRepository
from service.errors import DatabaseUnavailableError
from tests.integration.db.conftest import RepoFactory, count_sessions, eventually
from tests.integration.db.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("backend", ["postgres"])]

#: Far longer than any failure may take, so a call that waits on a timeout fails the test.
PATIENT_TIMEOUTS = 30.0
#: A failing call must come back well within this (no connect or acquire timeout involved).
FAST = 3.0


@pytest.fixture
async def proxy(pg_database_dsn: str) -> AsyncIterator[TcpProxy]:
    target = urlsplit(pg_database_dsn)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()


def through(proxy: TcpProxy, dsn: str) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


async def test_calls_fail_fast_while_the_database_is_down_and_recover_when_it_is_back(
    make_repo: RepoFactory, proxy: TcpProxy, pg_database_dsn: str, registry: CollectorRegistry
) -> None:
    repo = await make_repo(
        database_url=through(proxy, pg_database_dsn), db_acquire_timeout_seconds=PATIENT_TIMEOUTS
    )
    await repo.health()

    await proxy.stop()  # the database goes away: open sessions cut, new ones refused
    for _ in range(3):
        async with asyncio.timeout(FAST):
            with pytest.raises(DatabaseUnavailableError):
                await repo.health()
    unavailable = registry.get_sample_value(
        "csvbot_errors_total", {"component": "db", "kind": "db_unavailable"}
    )
    assert unavailable == 3

    await proxy.start()  # back on the same port; the same repository object keeps serving

    async def healthy() -> bool:
        try:
            await repo.health()
        except DatabaseUnavailableError:
            return False
        return True

    await eventually(healthy)
    await repo.upsert_user(user_id=1, chat_id=1, username=None)


async def test_a_session_killed_mid_query_is_unavailable_and_the_next_call_recovers(
    make_repo: RepoFactory, pg_database_dsn: str, application_name: str
) -> None:
    repo = await make_repo()
    await repo.upsert_user(user_id=1, chat_id=1, username=None)
    job = await repo.create_job(user_id=1, chat_id=1, file_name="a.csv", file_size=1)
    await repo.mark_queued(job.id)

    locker = await asyncpg.connect(pg_database_dsn)
    try:
        locking = locker.transaction()
        await locking.start()
        await locker.execute("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", job.id)
        claim = asyncio.create_task(repo.claim_job(job.id, 60))  # blocks on the row lock

        async def claim_is_waiting() -> bool:
            waiting = await locker.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = $1 AND wait_event_type = 'Lock'",
                application_name,
            )
            return bool(waiting == 1)

        await eventually(claim_is_waiting)
        await locker.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            application_name,
        )
        with pytest.raises(DatabaseUnavailableError):
            await claim
        await locking.rollback()
    finally:
        await locker.close()

    claimed = await repo.claim_job(job.id, 60)  # a fresh session, no restart
    assert claimed is not None and claimed.attempts == 1


async def test_idle_sessions_closed_by_the_server_are_replaced_without_an_error(
    make_repo: RepoFactory, pg_server_dsn: str, pg_database_dsn: str, application_name: str
) -> None:
    repo = await make_repo(supabase_session_limit=2)
    assert isinstance(repo, PostgresRepository)
    await asyncio.gather(repo.health(), repo.health())
    killer = await asyncpg.connect(pg_database_dsn)
    try:
        await killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            application_name,
        )
    finally:
        await killer.close()

    async def all_gone() -> bool:
        return await count_sessions(pg_server_dsn, application_name) == 0

    await eventually(all_gone)
    await asyncio.sleep(0.05)  # let the client read the server's goodbye on the idle sockets
    await repo.health()
    assert repo.pool.open_connections == 1
