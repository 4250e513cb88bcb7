"""The service-wide session limit, stored in the database with who changed it, when and why.

``SUPABASE_SESSION_LIMIT`` is only the value the service starts from while the table is empty;
after the first change the newest row of ``session_limit_changes`` is the limit, for every
process and across restarts. Processes re-read it with each budget lease renewal (every few
seconds), so a change made in the bot reaches the workers without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

#: ``initial``: the SUPABASE_SESSION_LIMIT the service started from (never written).
LimitOrigin = Literal["operator", "alerts", "adaptive", "initial"]
#: Reasons are free text for operators; a page of them is plenty.
REASON_MAX_CHARS = 500

CURRENT_LIMIT = "SELECT * FROM session_limit_changes ORDER BY id DESC LIMIT 1"
LIMIT_HISTORY = "SELECT * FROM session_limit_changes ORDER BY id DESC LIMIT :limit"
RECORD_LIMIT = """
INSERT INTO session_limit_changes (session_limit, previous, source, actor, reason, changed_at)
VALUES (:session_limit, :previous, :source, :actor, :reason, :changed_at)
RETURNING *
"""


@dataclass(frozen=True)
class LimitChange:
    """One row of the limit's history (or the initial value, with ``changed_at`` None)."""

    session_limit: int
    previous: int | None
    source: LimitOrigin
    actor: str
    reason: str
    changed_at: datetime | None


class _Executor(Protocol):
    async def fetch_all(self, statement: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]: ...

    async def fetch_one(self, statement: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None: ...


class SessionLimitQueries:
    """The limit's queries; mixed into :class:`~service.db.sql_repository.SqlRepository`."""

    def _query(self, name: str) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    def _reserve_query(self, name: str) -> AbstractAsyncContextManager[Any]:
        """A query on a session of the reserve, outside the budgeted pool (PostgreSQL)."""
        return self._query(name)

    async def read_session_limit(self, *, reserve: bool = False) -> LimitChange | None:
        """The newest stored change, or None while the service runs on its initial limit.

        ``reserve``: read on a session of the reserve — a starting process holds no share of the
        budget yet, and must not open a pool session outside it.
        """
        query = self._reserve_query if reserve else self._query
        async with query("get_session_limit") as db:
            row = await db.fetch_one(CURRENT_LIMIT, {})
        return _change(row) if row is not None else None

    async def session_limit_history(self, count: int = 5) -> list[LimitChange]:
        async with self._query("get_session_limit") as db:
            rows = await db.fetch_all(LIMIT_HISTORY, {"limit": count})
        return [_change(row) for row in rows]

    async def _store_limit(
        self, new: int, previous: int, *, source: str, actor: str, reason: str, at: datetime
    ) -> LimitChange:
        params = {
            "session_limit": new,
            "previous": previous,
            "source": source,
            "actor": actor[:100],
            "reason": reason[:REASON_MAX_CHARS],
            "changed_at": at,
        }
        async with self._reserve_query("set_session_limit") as db:
            row = await db.fetch_one(RECORD_LIMIT, params)
        assert row is not None, "INSERT … RETURNING returned no row"
        return _change(row)


def _change(row: Mapping[str, Any]) -> LimitChange:
    stamp = row["changed_at"]  # asyncpg: a datetime; SQLite: ISO-8601 text
    changed_at = (stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp)).astimezone(UTC)
    return LimitChange(
        session_limit=int(row["session_limit"]),
        previous=int(row["previous"]) if row["previous"] is not None else None,
        source=row["source"],
        actor=str(row["actor"]),
        reason=str(row["reason"]),
        changed_at=changed_at,
    )
