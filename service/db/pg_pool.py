"""A small asyncpg connection pool whose size can change while it serves.

Why not ``asyncpg.create_pool``: its ``max_size`` is fixed for the pool's life, and swapping in a
new pool to change it means two pools' connections open at once while the old one drains — exactly
what Supabase's session pooler refuses (``EMAXCONNSESSION max clients reached``). Here a
:class:`~service.db.limiter.SessionLimiter` decides who may hold a session, and this pool keeps the
number of *open* connections (idle + lent out) at or under the limit:

* a connection is opened only for a caller that holds a slot and finds no idle one, so
  open ≤ in use ≤ limit;
* lowering the limit closes idle connections at once, and closes each lent-out connection on
  its return while more than the limit are open, so the count falls to the new limit as work
  in flight returns;
* a connection that failed, was cancelled mid-query or was closed by the server is discarded,
  never reused; the next caller opens a fresh one. That is how the pool recovers, without a
  restart, after the database comes back.

While the database is unreachable every caller fails at once with
:class:`~service.errors.DatabaseUnavailableError`: a refused connection fails immediately, and
for :data:`RECONNECT_BACKOFF_SECONDS` after a failed attempt callers do not even try, so a
black-holed host costs one connect timeout, not one per caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from service.db.limiter import SessionLimiter
from service.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

#: After a failed connect, fail fast for this long before trying again. 1 s: short enough that a
#: recovered database is used within a second, long enough to stop a stampede of connect attempts.
RECONNECT_BACKOFF_SECONDS = 1.0
#: A graceful close sends Terminate and waits; a server that does not answer gets this long.
CLOSE_TIMEOUT_SECONDS = 2.0

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class PgConnectionPool:
    """Connections for at most ``limiter.limit`` concurrent sessions."""

    def __init__(self, connect: Connect, limiter: SessionLimiter, *, describe: str) -> None:
        self._connect = connect
        self._limiter = limiter
        self._describe = describe  # host:port/db for messages, never the password
        self._idle: list[asyncpg.Connection] = []
        self._open = 0
        self._closed = False
        self._last_connect_failure: float | None = None

    @property
    def open_connections(self) -> int:
        """Connections this pool has open now (idle and lent out)."""
        return self._open

    @property
    def limit(self) -> int:
        return self._limiter.limit

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[asyncpg.Connection]:
        """Lend a connection for the body of the ``async with``; always returns the slot."""
        if self._closed:
            raise DatabaseUnavailableError("the database repository is closed")
        await self._limiter.acquire()
        try:
            conn = await self._checkout()
            healthy = False
            try:
                yield conn
                healthy = True
            except asyncpg.PostgresError as exc:
                # The server reported an error on a live connection (a constraint, a cancelled
                # statement): the connection itself is fine unless the error was about it.
                healthy = not _is_connection_error(exc)
                raise
            finally:
                await self._checkin(conn, healthy=healthy)
        finally:
            self._limiter.release()

    async def set_limit(self, limit: int) -> None:
        """Resize now: waiters are admitted on growth; surplus idle connections close on shrink."""
        self._limiter.set_limit(limit)
        while self._idle and self._open > limit:
            await self._discard(self._idle.pop(), graceful=True)

    async def close_idle(self) -> None:
        """Close every idle connection now (they are opened again on demand)."""
        while self._idle:
            await self._discard(self._idle.pop(), graceful=True)

    async def close(self) -> None:
        """Close idle connections now; lent-out ones close when they come back."""
        self._closed = True
        while self._idle:
            await self._discard(self._idle.pop(), graceful=True)

    async def _checkout(self) -> asyncpg.Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            await self._discard(conn, graceful=False)  # the server closed it while idle
        return await self._open_connection()

    async def _open_connection(self) -> asyncpg.Connection:
        failed_at = self._last_connect_failure
        if failed_at is not None and time.monotonic() - failed_at < RECONNECT_BACKOFF_SECONDS:
            raise DatabaseUnavailableError(
                f"database {self._describe} unreachable (last connect failed "
                f"{time.monotonic() - failed_at:.1f}s ago)"
            )
        try:
            conn = await self._connect()
        # ValueError: asyncpg could not parse the DSN (the factory reports it as a ConfigError).
        except (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            self._last_connect_failure = time.monotonic()
            raise DatabaseUnavailableError(
                f"cannot connect to database {self._describe}: {type(exc).__name__}"
            ) from exc
        self._last_connect_failure = None
        self._open += 1
        return conn

    async def _checkin(self, conn: asyncpg.Connection, *, healthy: bool) -> None:
        reusable = healthy and not conn.is_closed() and not conn.is_in_transaction()
        if not reusable:
            await self._discard(conn, graceful=False)
        elif self._closed or self._open > self._limiter.limit:
            await self._discard(conn, graceful=True)  # the limit was lowered while it was out
        else:
            self._idle.append(conn)

    async def _discard(self, conn: asyncpg.Connection, *, graceful: bool) -> None:
        self._open -= 1
        if conn.is_closed():
            return
        if graceful:
            try:
                await conn.close(timeout=CLOSE_TIMEOUT_SECONDS)
                return
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("database connection did not close cleanly; terminating it")
        # Cancelled mid-query or broken: its protocol state is unknown, so drop the socket.
        conn.terminate()


def _is_connection_error(exc: asyncpg.PostgresError) -> bool:
    """SQLSTATE classes that mean the session is gone: 08 (connection), 57P (shutdown), 53300."""
    state = getattr(exc, "sqlstate", None) or ""
    return state.startswith(("08", "57P")) or state == "53300"


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database (not the query) failed: map it to unavailable."""
    if isinstance(exc, asyncpg.PostgresError):
        return _is_connection_error(exc)
    # InterfaceError: "connection is closed" and friends. OSError: resets. TimeoutError: connect.
    return isinstance(exc, asyncpg.InterfaceError | OSError | TimeoutError | asyncio.IncompleteReadError)
