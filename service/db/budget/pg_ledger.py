"""The budget ledger in PostgreSQL (no Redis): the ``session_leases`` table of migration 004.

A renewal is one transaction under an advisory lock, so renewals are serialised; expiry is judged
by the server's clock. The renewal runs on one of the process's own sessions (a starting process
with no share yet uses a one-off connection from the reserve).
"""

from __future__ import annotations

from service.db.budget.allocation import Lease, LeaseReport, grant_for
from service.db.postgres import PostgresRepository

#: Any fixed 64-bit number distinct from the migration lock: "csvbud" in ASCII.
BUDGET_LOCK_KEY = 0x637376627564

_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8"
_DROP_EXPIRED = "DELETE FROM session_leases WHERE expires_at <= clock_timestamp()"
_LIVE = "SELECT * FROM session_leases WHERE expires_at > clock_timestamp()"
_UPSERT = """
INSERT INTO session_leases (process_id, role, granted, held, wanted, in_use, waiting, pinned,
                            db_errors, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, to_timestamp($10))
ON CONFLICT (process_id) DO UPDATE SET
    role = excluded.role, granted = excluded.granted, held = excluded.held,
    wanted = excluded.wanted, in_use = excluded.in_use, waiting = excluded.waiting,
    pinned = excluded.pinned, db_errors = excluded.db_errors, expires_at = excluded.expires_at
"""


class PgLedger:
    kind = "postgres"

    def __init__(self, repo: PostgresRepository, minimums: dict[str, int]) -> None:
        self._repo = repo
        self._minimums = minimums

    async def renew(
        self, report: LeaseReport, *, current: int, budget: int, limit: int, ttl: float, reserve: bool = False
    ) -> int:
        async with self._repo.budget_connection(reserve=reserve) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", BUDGET_LOCK_KEY)
            await conn.execute(_DROP_EXPIRED)
            now = float(await conn.fetchval(_NOW))
            others = [
                lease
                for lease in self._read(await conn.fetch(_LIVE))
                if lease.report.process_id != report.process_id
            ]
            grant = grant_for(report, current, others, budget=budget, limit=limit)
            r = report
            await conn.execute(
                _UPSERT,
                r.process_id,
                r.role,
                grant,
                r.held,
                r.wanted,
                r.in_use,
                r.waiting,
                r.pinned,
                r.db_errors,
                now + ttl,
            )
        return grant

    async def release(self, process_id: str) -> None:
        async with self._repo.budget_connection() as conn:
            await conn.execute("DELETE FROM session_leases WHERE process_id = $1", process_id)

    async def leases(self) -> list[Lease]:
        # On the reserve: read when the pool may be pinned (tuning decisions, /limit).
        async with self._repo.budget_connection(reserve=True) as conn:
            return self._read(await conn.fetch(_LIVE))

    async def aclose(self) -> None:
        return None

    def _read(self, rows: list[object]) -> list[Lease]:
        leases = []
        for row in rows:
            r = dict(row)  # type: ignore[call-overload]
            report = LeaseReport(
                process_id=r["process_id"],
                role=r["role"],
                minimum=self._minimums.get(r["role"], 1),
                held=r["held"],
                wanted=r["wanted"],
                in_use=r["in_use"],
                waiting=r["waiting"],
                pinned=r["pinned"],
                db_errors=r["db_errors"],
            )
            leases.append(Lease(report, r["granted"], r["expires_at"].timestamp()))
        return leases
