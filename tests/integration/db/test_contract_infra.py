"""The repository contract beyond jobs — migrations, the session limit, pool metrics, telemetry —
run identically on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from prometheus_client import CollectorRegistry

from service.config import Settings
from service.db import migrate
from service.db.migrator import load_migrations
from service.db.sql_repository import SqlRepository
from service.errors import ConfigError, DatabaseUnavailableError, PoolExhaustedError
from telemetry.labels import DB_QUERIES
from telemetry.metrics import Metrics
from tests.integration.db.conftest import RepoFactory
from tests.integration.db.test_contract_userdata import exercise_user_data

pytestmark = pytest.mark.integration


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    assert value is not None, f"{name}{labels} is not exposed"
    return value


async def schema_versions(backend: str, settings: Settings) -> list[int]:
    if backend == "postgres":
        assert settings.database_url is not None
        conn = await asyncpg.connect(settings.database_url.get_secret_value())
        try:
            rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        finally:
            await conn.close()
        return [r["version"] for r in rows]
    with sqlite3.connect(settings.sqlite_path) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


async def test_migrating_an_empty_database_twice_applies_each_version_once(
    backend: str, empty_pg_dsn: str, tmp_path: Path, metrics: Metrics
) -> None:
    values: dict[str, Any] = {
        "database_url": empty_pg_dsn if backend == "postgres" else None,
        "sqlite_path": tmp_path / "fresh" / "csvbot.sqlite3",
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    every_version = [m.version for m in load_migrations(backend)]
    assert await migrate(settings, metrics) == every_version
    assert await migrate(settings, metrics) == []
    assert await schema_versions(backend, settings) == every_version


async def test_opening_an_up_to_date_database_applies_nothing(make_repo: RepoFactory) -> None:
    repo = await make_repo()
    assert await repo.apply_migrations() == []
    await make_repo()  # a second process starting against the same database


async def test_all_sessions_held_gives_pool_exhausted_after_the_timeout_and_counts_it(
    make_repo: RepoFactory, registry: CollectorRegistry
) -> None:
    repo = await make_repo(db_acquire_timeout_seconds=0.2, supabase_session_limit=2)
    for _ in range(repo.limiter.limit):
        await repo.limiter.acquire()
    with pytest.raises(PoolExhaustedError):
        await repo.count_jobs_by_status()
    assert sample(registry, "csvbot_db_pool_acquire_timeouts_total") == 1
    assert sample(registry, "csvbot_errors_total", component="db", kind="db_pool_exhausted") == 1
    assert sample(registry, "csvbot_db_pool_waiting") == 0
    for _ in range(repo.limiter.limit):
        repo.limiter.release()
    await repo.count_jobs_by_status()  # sessions free again: the call goes through


async def test_waiting_callers_are_visible_in_the_pool_gauges(
    repo: SqlRepository, registry: CollectorRegistry
) -> None:
    for _ in range(repo.limiter.limit):
        await repo.limiter.acquire()
    assert sample(registry, "csvbot_db_pool_in_use") == repo.limiter.limit
    waiter = asyncio.create_task(repo.health())
    await asyncio.sleep(0.05)
    assert sample(registry, "csvbot_db_pool_waiting") == 1
    for _ in range(repo.limiter.limit):
        repo.limiter.release()
    await waiter
    assert sample(registry, "csvbot_db_pool_waiting") == 0
    assert sample(registry, "csvbot_db_pool_in_use") == 0
    assert sample(registry, "csvbot_db_pool_wait_seconds_bucket", le="10.0") >= 1


async def test_the_session_limit_is_stored_with_who_when_and_why_within_one_and_the_ceiling(
    repo: SqlRepository, backend: str, registry: CollectorRegistry
) -> None:
    assert sample(registry, "csvbot_db_session_limit") == 4
    assert sample(registry, "csvbot_db_session_limit_ceiling") == 10
    assert sample(registry, "csvbot_db_session_budget") == 10
    assert await repo.read_session_limit() is None  # running on SUPABASE_SESSION_LIMIT
    if backend == "sqlite":
        # One connection: nothing to tune, and it says so instead of pretending.
        with pytest.raises(ConfigError, match="SQLite has one connection") as refused:
            await repo.set_session_limit(5, source="operator", actor="42", reason="busy")
        assert refused.value.variable == "SUPABASE_SESSION_LIMIT"
        assert repo.session_limit == 4 and await repo.read_session_limit() is None
        return
    first = await repo.set_session_limit(6, source="operator", actor="42", reason="launch day")
    assert (first.previous, first.session_limit, first.source, first.actor) == (4, 6, "operator", "42")
    await repo.set_session_limit(5, source="alerts", actor="CsvbotDbPoolWaitHigh", reason="x" * 2000)
    same = await repo.set_session_limit(5, source="alerts", actor="again", reason="no change")
    assert same.changed_at is None  # nothing written
    stored = await repo.read_session_limit()
    assert stored is not None and stored.session_limit == 5 and stored.previous == 6
    assert stored.changed_at is not None and len(stored.reason) == 500
    history = await repo.session_limit_history(10)
    assert [(c.previous, c.session_limit) for c in history] == [(6, 5), (4, 6)]
    assert repo.session_limit == 5 and sample(registry, "csvbot_db_session_limit") == 5
    for bad in (0, -1, 11):
        with pytest.raises(ConfigError) as refused:
            await repo.set_session_limit(bad, source="operator", actor="42", reason="")
        assert refused.value.variable == "SUPABASE_SESSION_LIMIT"
        assert "1 to 10" in str(refused.value)
    with pytest.raises(ValueError, match="source"):
        await repo.set_session_limit(3, source="cron", actor="", reason="")  # type: ignore[arg-type]
    assert repo.session_limit == 5


async def test_each_query_gets_a_span_and_a_duration_but_never_its_parameters(
    repo: SqlRepository,
    backend: str,
    registry: CollectorRegistry,
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    exporter = spans[1]
    exporter.clear()
    await repo.upsert_user(user_id=424242, chat_id=434343, username="secret_name")
    job = await repo.create_job(user_id=424242, chat_id=434343, file_name="private.csv", file_size=5)
    await repo.get_job_for_user(job.id, 424242)
    finished = exporter.get_finished_spans()
    assert [s.name for s in finished] == ["db.upsert_user", "db.create_job", "db.get_job"]
    system = {"postgres": "postgresql", "sqlite": "sqlite"}[backend]
    for span in finished:
        assert span.attributes is not None
        assert span.attributes["db.system"] == system
        assert span.attributes["db.operation.name"] == span.name.removeprefix("db.")
        values = " ".join(str(v) for v in span.attributes.values())
        for parameter in (job.id, "424242", "434343", "secret_name", "private.csv"):
            assert parameter not in values
    assert sample(registry, "csvbot_db_query_duration_seconds_count", query="get_job") == 1
    assert sample(registry, "csvbot_db_query_duration_seconds_count", query="create_job") == 1


async def test_every_declared_query_name_is_used_by_a_repository_method(
    repo: SqlRepository, backend: str, registry: CollectorRegistry
) -> None:
    await repo.read_session_limit()
    # Changing the limit and the budget ledger's table exist only where there is a pool to tune.
    postgres_only = {"set_session_limit", "budget_lease"}
    if backend == "postgres":
        await repo.set_session_limit(5, source="operator", actor="1", reason="test")
        async with repo.budget_connection() as conn:  # type: ignore[attr-defined]
            await conn.fetchval("SELECT count(*) FROM session_leases")
    await repo.health()
    await repo.upsert_user(user_id=1, chat_id=1, username=None)
    job = await repo.create_job(user_id=1, chat_id=1, file_name="a.csv", file_size=1)
    await repo.get_job(job.id)
    await repo.list_jobs(1)
    await repo.mark_queued(job.id)
    await repo.claim_job(job.id, 60)
    await repo.fail_job(job.id, kind="internal", message="retry", retryable=True)
    await repo.claim_job(job.id, 60)
    await repo.finish_job(job.id, cleaned_key=None, profile_key=None, summary=None)
    await repo.requeue_stale_jobs()
    await repo.count_jobs_by_status()
    await exercise_user_data(repo)
    await repo.kick_stale_queued(stale_after=60)
    await repo.claim_deliveries(max_attempts=5, lease_seconds=60)
    await repo.record_document_delivered(job.id, "cleaned", delivery_attempt=1)
    await repo.renew_delivery(job.id, delivery_attempt=1, lease_seconds=60)
    await repo.delivered_documents(job.id)
    await repo.job_path_ages()
    await repo.user_usage(1, since=job.created_at)
    for query in DB_QUERIES:
        if backend == "sqlite" and query in postgres_only:
            continue
        count = sample(registry, "csvbot_db_query_duration_seconds_count", query=query)
        assert count >= 1, f"no repository method ran query {query!r}"


async def test_a_failed_query_marks_its_span_and_counts_the_error_kind(
    make_repo: RepoFactory,
    registry: CollectorRegistry,
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    repo = await make_repo(db_acquire_timeout_seconds=0.1)
    for _ in range(repo.limiter.limit):
        await repo.limiter.acquire()
    spans[1].clear()
    with pytest.raises(PoolExhaustedError):
        await repo.list_jobs(1)
    (span,) = spans[1].get_finished_spans()
    assert span.name == "db.list_jobs" and span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "db_pool_exhausted"
    for _ in range(repo.limiter.limit):
        repo.limiter.release()


async def test_a_closed_repository_refuses_calls_with_a_typed_error(repo: SqlRepository) -> None:
    await repo.health()
    await repo.aclose()
    await repo.aclose()  # idempotent
    with pytest.raises(DatabaseUnavailableError):
        await repo.health()
