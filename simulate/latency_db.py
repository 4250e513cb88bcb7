"""A PostgreSQL-like database on SQLite, for simulations on the embedded defaults.

SQLite answers in microseconds on one connection, so a simulated service on it never waits for a
database session the way a real deployment does — on Supabase each query holds a pooler session
for at least a network round trip, and the pool (``SUPABASE_SESSION_LIMIT``) is what runs out.
:class:`ModelledPostgresRepository` keeps SQLite for the data but models the sessions: at most
``pool_sessions`` units of work at once, each holding its session for ``round_trip`` seconds
before it runs (the statements themselves then run one at a time on the SQLite connection, in
well under a millisecond). Its pool can be resized and its limit tuned like PostgreSQL's, so the
connection budget, ``/limit`` and ``SESSION_LIMIT_TUNING`` behave as they would in production.

Used only when ``DATABASE_URL`` is unset; with it, the simulation runs on the real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from service.config import Settings
from service.db.factory import migrate_or_explain
from service.db.repository import Repository
from service.db.sql_repository import Executor
from service.db.sqlite import SqliteExecutor, SqliteRepository
from telemetry.metrics import Metrics


class ModelledPostgresRepository(SqliteRepository):
    backend = "sqlite"
    tunable = True

    def __init__(self, settings: Settings, metrics: Metrics, *, round_trip: float) -> None:
        super().__init__(settings, metrics)
        self.round_trip = round_trip
        self.limiter.set_limit(settings.supabase_session_limit)
        metrics.db_session_grant.set(settings.supabase_session_limit)
        #: The one SQLite connection runs one unit of work at a time (sessions only model waits).
        self._statements = asyncio.Lock()

    @property
    def description(self) -> str:
        return f"SQLite with a PostgreSQL-like latency model ({self.round_trip * 1000:.0f} ms per session)"

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Executor]:
        await self.limiter.acquire()
        try:
            await asyncio.sleep(self.round_trip)  # the round trip to a remote pooler, session held
            async with self._statements:
                yield SqliteExecutor(await self._connect())
        finally:
            self.limiter.release()

    def _reserve_query(self, name: str) -> contextlib.AbstractAsyncContextManager[Executor]:
        # The reserve: outside the modelled pool (a starting process reads the limit on it).
        return self._instrumentation.query(name, self._reserve_session)

    @contextlib.asynccontextmanager
    async def _reserve_session(self) -> AsyncIterator[Executor]:
        await asyncio.sleep(self.round_trip)
        async with self._statements:
            yield SqliteExecutor(await self._connect())

    async def _apply_session_limit(self, new_limit: int) -> None:
        self.limiter.set_limit(new_limit)


class ModelledOpener:
    """An ``open_repo`` for :class:`~service.app.BotApp` that builds the model, migrated."""

    def __init__(self, round_trip: float) -> None:
        self.round_trip = round_trip

    async def __call__(self, settings: Settings, metrics: Metrics, *, application_name: str) -> Repository:
        repo = ModelledPostgresRepository(settings, metrics, round_trip=self.round_trip)
        await migrate_or_explain(repo)
        return repo
