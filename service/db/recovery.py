"""The repository's recovery queries: the sweeper's and the delivery step's.

Kept apart from :mod:`service.db.sql_repository` (which mixes them in) because they form one
concern: everything that lets a job be recovered from its row alone — a queued job whose task was
lost, a received job its bot never queued, a done job whose result never reached its user — and
the fenced, per-document bookkeeping of delivering a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from service.db import sql
from service.db.models import WAITING_STAGES, DeliveryClaims, Job, JobPathAges

if TYPE_CHECKING:
    from service.config import Settings
    from service.db.sql_repository import Clock, Executor

#: Rows one sweep takes at most; the next tick takes the rest.
SWEEP_BATCH = 100


class RecoveryQueries:
    """Mixed into :class:`~service.db.sql_repository.SqlRepository`, which provides the rest."""

    _clock: Clock
    _settings: Settings

    def _query(self, name: str) -> AbstractAsyncContextManager[Executor]:
        raise NotImplementedError

    async def _transition(self, query: str, statement: str, params: Mapping[str, Any]) -> Job | None:
        raise NotImplementedError

    # --- the sweeper ------------------------------------------------------------------------

    async def kick_stale_queued(self, *, stale_after: float, limit: int = SWEEP_BATCH) -> list[Job]:
        now = self._clock()
        params = {"now": now, "cutoff": now - timedelta(seconds=stale_after), "limit": limit}
        async with self._query("sweep_jobs") as db:
            rows = await db.fetch_all(sql.KICK_STALE_QUEUED, params)
        return [sql.job_from_row(row) for row in rows]

    async def resume_received(self, *, stale_after: float, limit: int = SWEEP_BATCH) -> list[Job]:
        now = self._clock()
        params = {"now": now, "cutoff": now - timedelta(seconds=stale_after), "limit": limit}
        async with self._query("sweep_jobs") as db:
            rows = await db.fetch_all(sql.RESUME_RECEIVED, params)
        return [sql.job_from_row(row) for row in rows]

    async def claim_deliveries(
        self, *, max_attempts: int, lease_seconds: float, limit: int = SWEEP_BATCH, error: str = ""
    ) -> DeliveryClaims:
        now = self._clock()
        params = {
            "now": now,
            "lease": now + timedelta(seconds=lease_seconds),
            "max_attempts": max_attempts,
            "limit": limit,
        }
        abandon = {
            "now": now,
            "max_attempts": max_attempts,
            "error": error or f"not delivered after {max_attempts} attempts",
        }
        async with self._query("claim_delivery") as db, db.transaction():
            abandoned = await db.fetch_all(sql.ABANDON_DELIVERIES, abandon)
            claimed = await db.fetch_all(sql.CLAIM_DELIVERIES, params)
        return DeliveryClaims(
            claimed=[sql.job_from_row(r) for r in claimed], abandoned=[sql.job_from_row(r) for r in abandoned]
        )

    async def job_path_ages(self) -> JobPathAges:
        now = self._clock()
        async with self._query("job_path_ages") as db:
            rows = await db.fetch_all(sql.JOB_PATH_AGES, {})
        oldest = dict.fromkeys(WAITING_STAGES, 0.0)
        counts = dict.fromkeys(WAITING_STAGES, 0)
        for row in rows:
            stage, since = str(row["stage"]), sql.parse_timestamp(row["oldest"])
            counts[stage] = int(row["n"] or 0)
            if since is not None:
                oldest[stage] = max(0.0, (now - since).total_seconds())
        return JobPathAges(oldest_seconds=oldest, counts=counts)

    # --- delivery, fenced by the delivery token -----------------------------------------------

    async def record_document_delivered(self, job_id: str, document: str, *, delivery_attempt: int) -> bool:
        params = {"id": job_id, "document": document, "attempt": delivery_attempt, "now": self._clock()}
        async with self._query("record_delivery") as db, db.transaction():
            current = await db.fetch_one(sql.GUARD_DELIVERY, params) is not None
            # Recorded even for a claim taken over: the document did reach the user, and a
            # record keeps the new deliverer from sending it again.
            await db.fetch_all(sql.RECORD_DOCUMENT, params)
        return current

    async def renew_delivery(self, job_id: str, *, delivery_attempt: int, lease_seconds: float) -> bool:
        now = self._clock()
        params = {
            "id": job_id,
            "attempt": delivery_attempt,
            "lease": now + timedelta(seconds=lease_seconds),
            "now": now,
        }
        async with self._query("renew_delivery") as db:
            return await db.fetch_one(sql.RENEW_DELIVERY, params) is not None

    async def delivered_documents(self, job_id: str) -> frozenset[str]:
        async with self._query("list_deliveries") as db:
            rows = await db.fetch_all(sql.DELIVERED_DOCUMENTS, {"id": job_id})
        return frozenset(str(row["document"]) for row in rows)

    async def release_delivery(
        self, job_id: str, *, delivery_attempt: int, retry_in_seconds: float
    ) -> Job | None:
        now = self._clock()
        params = {
            "id": job_id,
            "attempt": delivery_attempt,
            "retry_at": now + timedelta(seconds=retry_in_seconds),
            "now": now,
        }
        return await self._transition("update_job", sql.RELEASE_DELIVERY, params)

    async def give_up_delivery(self, job_id: str, *, delivery_attempt: int, error: str) -> Job | None:
        params = {"id": job_id, "attempt": delivery_attempt, "error": error[:2000], "now": self._clock()}
        return await self._transition("update_job", sql.GIVE_UP_DELIVERY, params)
