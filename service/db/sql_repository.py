"""The :class:`~service.db.repository.Repository` behaviour both backends share.

A backend supplies sessions (an :class:`Executor` over one connection), says which driver errors
mean "the database is unavailable", and applies a new session limit. Everything else — the SQL,
the state machine, the instrumentation, the session-limit bookkeeping — lives here once, so the
two backends cannot drift apart.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from opentelemetry import trace

from service.config import Settings
from service.db import quota_sql, sql
from service.db.instrumentation import IsUnavailable, QueryInstrumentation
from service.db.limit_store import LimitChange, SessionLimitQueries
from service.db.limiter import SessionLimiter
from service.db.models import (
    Job,
    JobStatus,
    StaleJobs,
    User,
    complete_status_counts,
    final_status_for,
    new_job_id,
    utc_now,
)
from service.db.quota_sql import UserUsage
from service.db.recovery import RecoveryQueries
from service.db.repository import LimitSource
from service.db.userdata import UserDataQueries
from service.errors import ConfigError, InternalError, JobNotFoundError
from telemetry import slo
from telemetry.labels import LIMIT_CHANGE_SOURCES
from telemetry.metrics import Metrics

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Error messages are for operators reading a job row; a traceback's worth is enough.
ERROR_MESSAGE_MAX_CHARS = 2000
NOTHING_TO_TUNE = (
    "is not used: SQLite has one connection, so there is no session limit to tune "
    "(set DATABASE_URL to use PostgreSQL)"
)
LEASE_EXPIRED_MESSAGE = "lease expired: the worker stopped or hung while running the job"


class Executor(Protocol):
    """Runs statements with ``:name`` parameters on one connection."""

    async def fetch_all(self, statement: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]: ...

    async def fetch_one(self, statement: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...


class SqlRepository(RecoveryQueries, SessionLimitQueries, UserDataQueries, ABC):
    """Shared implementation; subclasses provide :meth:`_session` and the limit change."""

    backend: str

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        *,
        db_system: str,
        is_unavailable: IsUnavailable,
        session_slots: int,
        clock: Clock = utc_now,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._clock = clock
        self._max_attempts = settings.job_max_attempts
        self._session_limit = settings.supabase_session_limit
        #: Never past the ceiling, and never more than the whole budget for one process.
        self._ceiling = min(settings.supabase_session_limit_max, settings.session_budget)
        self._limit_lock = asyncio.Lock()
        self._instrumentation: QueryInstrumentation[Executor] = QueryInstrumentation(
            metrics, db_system=db_system, is_unavailable=is_unavailable, tracer_provider=tracer_provider
        )
        #: Who may hold one of the backend's ``session_slots`` sessions; owns the pool gauges.
        self.limiter = SessionLimiter(
            session_slots, acquire_timeout=settings.db_acquire_timeout_seconds, metrics=metrics
        )
        metrics.db_session_limit.set(self._session_limit)
        metrics.db_session_limit_ceiling.set(self._ceiling)
        metrics.db_session_budget.set(settings.session_budget)
        metrics.db_session_grant.set(session_slots)

    # --- what a backend provides -----------------------------------------------------------

    @abstractmethod
    def _session(self) -> AbstractAsyncContextManager[Executor]:
        """One connection for the body of an ``async with``, within the session limit."""

    @abstractmethod
    async def _apply_session_limit(self, new_limit: int) -> None:
        """Make the backend honour ``new_limit`` from now on."""

    @abstractmethod
    async def apply_migrations(self) -> list[int]:
        """Bring the schema up to date; the versions applied by this call."""

    @abstractmethod
    async def aclose(self) -> None: ...

    def _query(self, name: str) -> AbstractAsyncContextManager[Executor]:
        return self._instrumentation.query(name, self._session)

    # --- session limit ----------------------------------------------------------------------
    #: Whether a limit changes anything: False on SQLite, which always uses one connection.
    tunable: bool = True

    @property
    def session_limit(self) -> int:
        """The service-wide limit as this process last read it (the store has the truth)."""
        return self._session_limit

    @property
    def session_limit_ceiling(self) -> int:
        return self._ceiling

    @property
    def pool_sessions(self) -> int:
        """Sessions this process may hold now (its grant of the budget, at most the limit)."""
        return self.limiter.limit

    @property
    def open_connections(self) -> int:
        """Connections this process has open (SQLite: its one, counted while lent out)."""
        return self.limiter.in_use

    async def set_session_limit(
        self, new_limit: int, *, source: LimitSource, actor: str, reason: str
    ) -> LimitChange:
        """Store a new service-wide limit (every process applies it within a lease renewal).

        Returns the change; ``previous == session_limit`` when nothing changed (no row written).
        Raises :class:`ConfigError` naming ``SUPABASE_SESSION_LIMIT`` outside 1 … the ceiling,
        or when this backend has nothing to tune.
        """
        if source not in LIMIT_CHANGE_SOURCES:
            raise ValueError(f"source must be one of {LIMIT_CHANGE_SOURCES}, not {source!r}")
        if not self.tunable:
            raise ConfigError("SUPABASE_SESSION_LIMIT", NOTHING_TO_TUNE)
        if (
            isinstance(new_limit, bool)
            or not isinstance(new_limit, int)
            or not 1 <= new_limit <= self._ceiling
        ):
            raise ConfigError(
                "SUPABASE_SESSION_LIMIT",
                f"must be a whole number from 1 to {self._ceiling} (SUPABASE_SESSION_LIMIT_MAX, "
                f"within the budget) (got {new_limit!r})",
            )
        # Serialised: an operator and the tuning loop changing it at once must not both read the
        # same previous value.
        async with self._limit_lock:
            # On the reserve: a decision taken because the pool is starved must not queue for it.
            stored = await self.read_session_limit(reserve=True)
            previous = stored.session_limit if stored is not None else self._session_limit
            if new_limit == previous:
                self.adopt_session_limit(previous)
                return LimitChange(new_limit, previous, source, actor, reason, None)
            change = await self._store_limit(
                new_limit, previous, source=source, actor=actor, reason=reason, at=self._clock()
            )
            self.adopt_session_limit(new_limit)
        return change

    def adopt_session_limit(self, limit: int) -> None:
        """Take ``limit`` as the service-wide limit (read from the store by the budget keeper)."""
        self._session_limit = max(1, min(limit, self._ceiling))
        self._metrics.db_session_limit.set(self._session_limit)

    async def resize_pool(self, sessions: int) -> None:
        """Hold at most ``sessions`` from now on (0: admit nobody); the budget keeper calls this."""
        await self._apply_session_limit(sessions)
        self._metrics.db_session_grant.set(sessions)

    # --- users ------------------------------------------------------------------------------

    async def upsert_user(self, *, user_id: int, chat_id: int, username: str | None) -> User:
        params = {"user_id": user_id, "chat_id": chat_id, "username": username, "now": self._clock()}
        async with self._query("upsert_user") as db:
            row = await db.fetch_one(sql.UPSERT_USER, params)
        return sql.user_from_row(_returned(row, "upsert_user"))

    # --- jobs -------------------------------------------------------------------------------

    async def create_job(
        self,
        *,
        user_id: int,
        chat_id: int,
        file_name: str,
        file_size: int,
        job_id: str | None = None,
        input_key: str | None = None,
        trace_context: Mapping[str, str] | None = None,
        progress_message_id: int | None = None,
    ) -> Job:
        params = {
            "id": job_id or new_job_id(),
            "user_id": user_id,
            "chat_id": chat_id,
            "file_name": file_name,
            "file_size": file_size,
            "input_key": input_key,
            "trace_context": sql.encode_json(dict(trace_context or {})),
            "progress_message_id": progress_message_id,
            "now": self._clock(),
        }
        async with self._query("create_job") as db:
            row = await db.fetch_one(sql.CREATE_JOB, params)
        return sql.job_from_row(_returned(row, "create_job"))

    async def get_job(self, job_id: str) -> Job:
        async with self._query("get_job") as db:
            row = await db.fetch_one(sql.GET_JOB, {"id": job_id})
        return _found(row, job_id)

    async def get_job_for_user(self, job_id: str, user_id: int) -> Job:
        async with self._query("get_job") as db:
            row = await db.fetch_one(sql.GET_JOB_FOR_USER, {"id": job_id, "user_id": user_id})
        return _found(row, job_id)

    async def list_jobs(self, user_id: int, limit: int = 10) -> list[Job]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        async with self._query("list_jobs") as db:
            rows = await db.fetch_all(sql.LIST_JOBS, {"user_id": user_id, "limit": limit})
        return [sql.job_from_row(row) for row in rows]

    async def mark_queued(self, job_id: str, *, input_key: str | None = None) -> Job | None:
        params = {"id": job_id, "input_key": input_key, "now": self._clock()}
        return await self._transition("update_job", sql.MARK_QUEUED, params)

    async def claim_job(self, job_id: str, lease_seconds: float) -> Job | None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, not {lease_seconds}")
        now = self._clock()
        params = {
            "id": job_id,
            "now": now,
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
            "max_attempts": self._max_attempts,
        }
        return await self._transition("claim_job", sql.CLAIM_JOB, params)

    async def renew_lease(self, job_id: str, *, attempt: int, lease_seconds: float) -> Job | None:
        now = self._clock()
        params = {
            "id": job_id,
            "attempt": attempt,
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
            "now": now,
        }
        return await self._transition("update_job", sql.RENEW_LEASE, params)

    async def update_progress(
        self,
        job_id: str,
        *,
        progress_message_id: int | None = None,
        lease_seconds: float | None = None,
    ) -> Job:
        now = self._clock()
        lease = None if lease_seconds is None else now + timedelta(seconds=lease_seconds)
        params = {
            "id": job_id,
            "progress_message_id": progress_message_id,
            "lease_expires_at": lease,
            "now": now,
        }
        async with self._query("update_job") as db:
            row = await db.fetch_one(sql.UPDATE_PROGRESS, params)
        return _found(row, job_id)

    async def finish_job(
        self,
        job_id: str,
        *,
        cleaned_key: str | None,
        profile_key: str | None,
        summary: Mapping[str, Any] | None,
        attempt: int | None = None,
    ) -> Job | None:
        now = self._clock()
        params: dict[str, Any] = {
            "id": job_id,
            "cleaned_key": cleaned_key,
            "profile_key": profile_key,
            "summary": sql.encode_json(summary),
            "now": now,
            # The finishing worker holds the delivery for as long as it would hold a job.
            "delivery_lease": now + timedelta(seconds=self._settings.job_lease_seconds),
        }
        if attempt is None:
            return await self._transition("finish_job", sql.FINISH_JOB, params)
        return await self._transition("finish_job", sql.FINISH_JOB_FENCED, {**params, "attempt": attempt})

    async def mark_delivered(self, job_id: str, *, delivery_attempt: int | None = None) -> Job | None:
        params: dict[str, Any] = {"id": job_id, "now": self._clock()}
        if delivery_attempt is None:
            return await self._transition("update_job", sql.MARK_DELIVERED, params)
        params["attempt"] = delivery_attempt
        return await self._transition("update_job", sql.MARK_DELIVERED_FENCED, params)

    async def fail_job(
        self,
        job_id: str,
        *,
        kind: str,
        message: str,
        retryable: bool,
        attempt: int | None = None,
        outage: bool = False,
    ) -> Job | None:
        error: dict[str, Any] = {"error_kind": kind, "error_message": message[:ERROR_MESSAGE_MAX_CHARS]}
        if attempt is not None:
            error["attempt"] = attempt
        retry_sql = sql.RETRY_JOB if attempt is None else sql.RETRY_JOB_FENCED
        end_sql = sql.END_JOB if attempt is None else sql.END_JOB_FENCED
        now = self._clock()
        row = exists = None
        async with self._query("fail_job") as db, db.transaction():
            if retryable:
                retry = {
                    "id": job_id,
                    "now": now,
                    "max_attempts": self._max_attempts,
                    "outage": int(outage),
                    "outage_cutoff": now - timedelta(seconds=slo.JOB_OUTAGE_RIDE_OUT_SECONDS),
                    **error,
                }
                row = await db.fetch_one(retry_sql, retry)
            if row is None:
                end = {"id": job_id, "now": now, "status": final_status_for(kind).value, **error}
                row = await db.fetch_one(end_sql, end)
            if row is None:
                exists = await db.fetch_one(sql.GET_JOB, {"id": job_id})
        if row is not None:
            return sql.job_from_row(row)
        _found(exists, job_id)
        return None

    async def requeue_stale_jobs(self, now: datetime | None = None) -> StaleJobs:
        params = {
            "now": now or self._clock(),
            "max_attempts": self._max_attempts,
            "error_kind": InternalError.kind,
            "error_message": LEASE_EXPIRED_MESSAGE,
        }
        async with self._query("requeue_stale_jobs") as db, db.transaction():
            requeued = await db.fetch_all(sql.REQUEUE_STALE, params)
            failed = await db.fetch_all(sql.FAIL_STALE, params)
        result = StaleJobs(
            requeued=[sql.job_from_row(r) for r in requeued], failed=[sql.job_from_row(r) for r in failed]
        )
        if result.requeued or result.failed:
            log.warning(
                "jobs with expired leases found",
                extra={
                    "requeued_job_ids": [j.id for j in result.requeued],
                    "failed_job_ids": [j.id for j in result.failed],
                },
            )
        return result

    async def count_jobs_by_status(self) -> dict[JobStatus, int]:
        async with self._query("count_jobs") as db:
            rows = await db.fetch_all(sql.COUNT_BY_STATUS, {})
        return complete_status_counts({row["status"]: row["n"] for row in rows})

    async def user_usage(self, user_id: int, since: datetime) -> UserUsage:
        async with self._query("user_usage") as db:
            row = await db.fetch_one(quota_sql.USER_USAGE, {"user_id": user_id, "since": since})
        if row is None:
            return UserUsage(active_jobs=0, bytes_since=0)
        return UserUsage(active_jobs=int(row["active_jobs"] or 0), bytes_since=int(row["bytes_since"] or 0))

    async def health(self) -> None:
        async with self._query("health") as db:
            await db.fetch_one(sql.HEALTH, {})

    async def _transition(self, query: str, statement: str, params: Mapping[str, Any]) -> Job | None:
        """One guarded UPDATE: the new job, ``None`` if the guard refused, or JobNotFoundError."""
        async with self._query(query) as db:
            row = await db.fetch_one(statement, params)
            exists = None if row is not None else await db.fetch_one(sql.GET_JOB, {"id": params["id"]})
        if row is not None:
            return sql.job_from_row(row)
        _found(exists, str(params["id"]))
        return None


def _found(row: Mapping[str, Any] | None, job_id: str) -> Job:
    if row is None:
        raise JobNotFoundError(f"job {job_id} not found")
    return sql.job_from_row(row)


def _returned(row: Mapping[str, Any] | None, query: str) -> Mapping[str, Any]:
    if row is None:
        raise InternalError(f"{query} returned no row")
    return row
