"""The PostgreSQL backend (production: Supabase), on asyncpg.

Sessions come from :class:`~service.db.pg_pool.PgConnectionPool`, capped by
``SUPABASE_SESSION_LIMIT`` and resizable at run time with :meth:`set_session_limit` (up to
``SUPABASE_SESSION_LIMIT_MAX``). Every connection carries ``application_name`` so operators can
count this service's sessions in ``pg_stat_activity``.

Supabase offers two poolers:

* **session mode** (port 5432): each client connection is one server session, and the pooler
  refuses clients beyond its pool size (``EMAXCONNSESSION max clients reached``) — the reason
  the limit exists. Prepared statements work: keep ``DB_PREPARED_STATEMENTS=true``.
* **transaction mode** (port 6543): a server session is lent per transaction, so a statement
  prepared in one transaction is gone in the next. Set ``DB_PREPARED_STATEMENTS=false``: the
  connections are then opened with ``statement_cache_size=0`` and asyncpg uses unnamed statements
  only. Every multi-statement unit of work here runs inside one transaction, and the migration
  lock is transaction-scoped (``pg_advisory_xact_lock``), so nothing relies on session state.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from opentelemetry import trace

from service.config import Settings
from service.db import migrator
from service.db.models import utc_now
from service.db.pg_pool import PgConnectionPool, is_unavailable
from service.db.sql import to_positional
from service.db.sql_repository import Clock, Executor, SqlRepository
from service.errors import DatabaseUnavailableError
from telemetry.metrics import Metrics

#: application_name suffix of sessions opened outside the pool, from the reserve.
RESERVE_SUFFIX = "-reserve"
#: Any fixed 64-bit number shared by every csvbot process: the key of the migration lock.
MIGRATION_LOCK_KEY = 0x637376626F74  # "csvbot" in ASCII


class PgExecutor:
    """Runs ``:name``-parameter statements on one asyncpg connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def fetch_all(self, statement: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        text, names = to_positional(statement)
        return list(await self.connection.fetch(text, *(params[n] for n in names)))

    async def fetch_one(self, statement: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        text, names = to_positional(statement)
        row: Mapping[str, Any] | None = await self.connection.fetchrow(text, *(params[n] for n in names))
        return row

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self.connection.transaction():
            yield


def describe_dsn(dsn: str) -> str:
    """``user@host:port/dbname`` of a DSN: enough to name it in an error, never the password."""
    try:
        parts = urlsplit(dsn)
        port = parts.port or 5432
    except ValueError:
        return "<unparsable DATABASE_URL>"
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{parts.hostname}:{port}{parts.path or '/'}"


class PostgresRepository(SqlRepository):
    """Users and jobs in PostgreSQL. Build with :func:`service.db.open_repository`."""

    backend = "postgres"

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        *,
        application_name: str = "csvbot",
        clock: Clock = utc_now,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        if settings.database_url is None:
            raise ValueError("PostgresRepository needs DATABASE_URL")
        super().__init__(
            settings,
            metrics,
            db_system="postgresql",
            is_unavailable=is_unavailable,
            session_slots=settings.supabase_session_limit,
            clock=clock,
            tracer_provider=tracer_provider,
        )
        self._dsn = settings.database_url.get_secret_value()
        self.description = describe_dsn(self._dsn)
        self._application_name = application_name
        self.pool = PgConnectionPool(self._connect, self.limiter, describe=self.description)

    async def _connect(self, *, reserve: bool = False) -> asyncpg.Connection:
        # Sessions of the reserve (migrations, a starting process's first budget lease) are named
        # apart, so operators can tell them from the budgeted ones in pg_stat_activity.
        name = f"{self._application_name}{RESERVE_SUFFIX}" if reserve else self._application_name
        return await asyncpg.connect(
            self._dsn,
            # A connect that takes longer than waiting for a session would is not worth waiting
            # for: the caller gets DatabaseUnavailableError instead.
            timeout=self._settings.db_acquire_timeout_seconds,
            statement_cache_size=100 if self._settings.db_prepared_statements else 0,
            server_settings={"application_name": name},
        )

    def _reserve_query(self, name: str) -> contextlib.AbstractAsyncContextManager[Executor]:
        return self._instrumentation.query(name, self._reserve_session)

    @contextlib.asynccontextmanager
    async def _reserve_session(self) -> AsyncIterator[Executor]:
        """A one-off connection outside the pool, from SUPABASE_SESSION_RESERVE; closed after use."""
        try:
            conn = await self._connect(reserve=True)
        # ValueError: asyncpg could not parse the DSN (the factory reports it as a ConfigError).
        except (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseUnavailableError(
                f"cannot connect to database {self.description}: {type(exc).__name__}"
            ) from exc
        try:
            yield PgExecutor(conn)
        finally:
            with contextlib.suppress(OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await conn.close(timeout=2.0)

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Executor]:
        async with self.pool.session() as connection:
            yield PgExecutor(connection)

    async def _apply_session_limit(self, new_limit: int) -> None:
        await self.pool.set_limit(new_limit)

    @property
    def open_connections(self) -> int:
        return self.pool.open_connections

    async def close_idle(self) -> None:
        """Close idle connections (after migrating, before the process has a budget share)."""
        await self.pool.close_idle()

    @contextlib.asynccontextmanager
    async def budget_connection(self, *, reserve: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """A session for the budget ledger: from the pool while this process has a share, else a
        one-off connection from the reserve (a starting process asking for its first share)."""
        if self.pool.limit > 0 and not reserve:
            async with self._query("budget_lease") as db:
                assert isinstance(db, PgExecutor)
                yield db.connection
            return
        async with self._instrumentation.query("budget_lease", self._reserve_session) as db:
            assert isinstance(db, PgExecutor)
            yield db.connection

    async def apply_migrations(self) -> list[int]:
        applied_now: list[int] = []
        # On a session of the reserve: the pool's sessions are the budget's, and a starting
        # process has no share of it yet.
        async with self._instrumentation.query("migrate", self._reserve_session) as db:
            assert isinstance(db, PgExecutor)
            conn = db.connection
            async with conn.transaction():
                # Released at commit; a second process waits here, then finds nothing to do.
                await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
                await conn.execute(migrator.SCHEMA_MIGRATIONS_DDL)
                applied = {row["version"] for row in await conn.fetch(migrator.APPLIED_VERSIONS)}
                for migration in migrator.pending(migrator.load_migrations("postgres"), applied):
                    await conn.execute(migration.sql)  # simple protocol: many statements at once
                    await db.fetch_one(
                        migrator.RECORD_VERSION + " RETURNING version",
                        {
                            "version": migration.version,
                            "name": migration.name,
                            "at": datetime.now(UTC).isoformat(timespec="seconds"),
                        },
                    )
                    applied_now.append(migration.version)
        return applied_now

    async def aclose(self) -> None:
        await self.pool.close()
