"""The connection budget's ledger: one lease per live process, renewed by heartbeat.

Implementations: :class:`~service.db.budget.redis_ledger.RedisLedger` (``REDIS_URL`` set),
:class:`~service.db.budget.pg_ledger.PgLedger` (PostgreSQL alone) and :class:`LocalLedger` (one
process: the embedded deployment and tests). Each :meth:`Ledger.renew` is atomic: it drops
expired leases, runs :func:`~service.db.budget.allocation.grant_for` against the live ones and
stores the renewed lease, so two processes renewing at once cannot both take the last session.
Expiry is judged on the ledger's clock, never on a process's own.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any, Protocol

from service.db.budget.allocation import Lease, LeaseReport, grant_for


class Ledger(Protocol):
    """Where the processes' shares of the budget are kept."""

    #: ``redis``, ``postgres`` or ``local``, for logs and /limit.
    kind: str

    async def renew(
        self, report: LeaseReport, *, current: int, budget: int, limit: int, ttl: float, reserve: bool = False
    ) -> int:
        """Renew (or take) ``report.process_id``'s lease for ``ttl`` seconds; the new grant.

        ``reserve``: a ledger in the database renews on a session of the reserve (a decision
        taken because the pool is pinned must not queue behind it).
        """
        ...

    async def release(self, process_id: str) -> None:
        """Give the share back now (a clean shutdown), rather than after the lease expires."""
        ...

    async def leases(self) -> list[Lease]:
        """Every live lease, for /limit."""
        ...

    async def aclose(self) -> None: ...


class LocalLedger:
    """One process's ledger in memory (nothing to share it with)."""

    kind = "local"

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}

    async def renew(
        self, report: LeaseReport, *, current: int, budget: int, limit: int, ttl: float, reserve: bool = False
    ) -> int:
        now = time.time()
        self._leases = {pid: lease for pid, lease in self._leases.items() if lease.expires_at > now}
        others = [lease for pid, lease in self._leases.items() if pid != report.process_id]
        grant = grant_for(report, current, others, budget=budget, limit=limit)
        self._leases[report.process_id] = Lease(report, grant, now + ttl)
        return grant

    async def release(self, process_id: str) -> None:
        self._leases.pop(process_id, None)

    async def leases(self) -> list[Lease]:
        now = time.time()
        return [lease for lease in self._leases.values() if lease.expires_at > now]

    async def aclose(self) -> None:
        return None


def encode_lease(lease: Lease) -> str:
    return json.dumps({**asdict(lease.report), "granted": lease.granted, "expires_at": lease.expires_at})


def decode_lease(text: str | bytes) -> Lease | None:
    """A stored lease, or None for one this version cannot read (it then expires unread)."""
    try:
        raw: dict[str, Any] = json.loads(text)
        granted, expires_at = int(raw.pop("granted")), float(raw.pop("expires_at"))
        return Lease(LeaseReport(**raw), granted, expires_at)
    except (ValueError, TypeError, KeyError):
        return None
