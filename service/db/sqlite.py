"""The SQLite backend: the embedded default when ``DATABASE_URL`` is unset.

One aiosqlite connection per process, in WAL mode (readers never block the writer, so a bot and a
worker process can share the file) with a busy timeout of ``DB_ACQUIRE_TIMEOUT_SECONDS`` for
waiting on another process's write lock.

Session limit: SQLite allows one writer at a time and a connection runs one statement at a time,
so this backend always uses exactly **one** session, whatever the limit says. The limiter in front
of it therefore has a fixed size of 1 and still reports the pool gauges (in use, waiting, wait
time, acquire timeouts) exactly as Postgres does. The backend is not :attr:`tunable`:
:meth:`set_session_limit` refuses with a message saying that there is nothing to tune, and no
connection budget or tuning runs on it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import aiosqlite
from opentelemetry import trace

from service.config import Settings
from service.db import migrator
from service.db.models import utc_now
from service.db.sql_repository import Clock, Executor, SqlRepository
from service.errors import DatabaseUnavailableError
from telemetry.metrics import Metrics

#: Primary result codes that mean the database file, not the statement, is the problem.
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)


def is_unavailable(exc: BaseException) -> bool:
    """Locked past the busy timeout, I/O errors, a full disk, an unopenable file."""
    if isinstance(exc, OSError):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and (code & 0xFF) in _UNAVAILABLE_CODES


def _adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        # Fixed-width ISO-8601 in UTC: comparing the text compares the times.
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


class SqliteExecutor:
    """Runs ``:name``-parameter statements on the aiosqlite connection."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def fetch_all(self, statement: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        adapted = {name: _adapt(value) for name, value in params.items()}
        # Reading every row and closing the cursor finishes the statement, which is what
        # commits an autocommit UPDATE … RETURNING.
        async with self.connection.execute(statement, adapted) as cursor:
            rows = await cursor.fetchall()
        return cast(list[Mapping[str, Any]], list(rows))  # sqlite3.Row: mapping by column name

    async def fetch_one(self, statement: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        rows = await self.fetch_all(statement, params)
        return rows[0] if rows else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        # IMMEDIATE takes the write lock up front: a read-then-write unit cannot deadlock with
        # another process upgrading its own read lock.
        await self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await self.connection.execute("ROLLBACK")
            raise
        await self.connection.execute("COMMIT")


class SqliteRepository(SqlRepository):
    """Users and jobs in a local SQLite file. Build with :func:`service.db.open_repository`."""

    backend = "sqlite"
    #: One connection whatever the limit: /limit says so instead of pretending to change it.
    tunable = False

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        *,
        clock: Clock = utc_now,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        super().__init__(
            settings,
            metrics,
            db_system="sqlite",
            is_unavailable=is_unavailable,
            session_slots=1,  # one connection, whatever the limit (see the module docstring)
            clock=clock,
            tracer_provider=tracer_provider,
        )
        self.path = settings.sqlite_path
        self._connection: aiosqlite.Connection | None = None
        self._closed = False

    async def _connect(self) -> aiosqlite.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = await aiosqlite.connect(self.path, isolation_level=None)  # we BEGIN ourselves
            try:
                connection.row_factory = sqlite3.Row
                await connection.execute("PRAGMA journal_mode = WAL")
                # NORMAL is durable across process crashes in WAL mode; a power cut may lose the
                # last transactions, which costs a user a re-upload, not a corrupt file.
                await connection.execute("PRAGMA synchronous = NORMAL")
                await connection.execute("PRAGMA foreign_keys = ON")
                busy_ms = int(self._settings.db_acquire_timeout_seconds * 1000)
                await connection.execute(f"PRAGMA busy_timeout = {busy_ms}")
            except BaseException:
                await connection.close()
                raise
            self._connection = connection
        elif self._connection.in_transaction:
            # A unit of work was cancelled between BEGIN and COMMIT: undo it before reuse.
            await self._connection.execute("ROLLBACK")
        return self._connection

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Executor]:
        if self._closed:
            raise DatabaseUnavailableError("the database repository is closed")
        await self.limiter.acquire()
        try:
            yield SqliteExecutor(await self._connect())
        finally:
            self.limiter.release()

    async def _apply_session_limit(self, new_limit: int) -> None:
        """Nothing to resize: SQLite always uses its one connection (see the module docstring)."""

    async def apply_migrations(self) -> list[int]:
        applied_now: list[int] = []
        async with self._query("migrate") as db, db.transaction():
            await db.fetch_all(migrator.SCHEMA_MIGRATIONS_DDL, {})
            applied = {row["version"] for row in await db.fetch_all(migrator.APPLIED_VERSIONS, {})}
            for migration in migrator.pending(migrator.load_migrations("sqlite"), applied):
                for statement in migrator.split_statements(migration.sql):
                    await db.fetch_all(statement, {})
                at = datetime.now(UTC).isoformat(timespec="seconds")
                record = {"version": migration.version, "name": migration.name, "at": at}
                await db.fetch_all(migrator.RECORD_VERSION, record)
                applied_now.append(migration.version)
        return applied_now

    async def aclose(self) -> None:
        self._closed = True
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()
