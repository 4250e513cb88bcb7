"""How much of the connection budget one process may hold: the ledger's one rule, pure.

The ledger (Redis or PostgreSQL) runs :func:`grant_for` atomically for the process renewing its
lease, against every other live lease. The invariant it keeps is

    sum over live processes of max(granted, held)  <=  budget

where ``held`` is what a process may still have open from an earlier, larger grant: a process is
never granted more than what the others leave free, and a share taken away counts as taken until
its owner reports that its connections are closed. A lease that expired belongs to a dead process
(its connections died with it) and no longer counts.

Shares move towards demand: while every process gets what it asks for, each may hold up to the
limit, as far as the budget goes. A process that is pinned at its grant or has callers waiting
asks for the whole limit, an idle one only for its minimum plus what it uses; once some process
gets less than it asks for, everyone else keeps only what they use, and at most a fair share
(budget / processes, at least their role's minimum), so a busy worker gives sessions back to a
bot that needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LeaseReport:
    """What a process tells the ledger when it renews its lease."""

    process_id: str
    role: str
    minimum: int
    #: Connections it may have open right now: max(open connections, its pool's current size).
    held: int
    wanted: int
    in_use: int
    waiting: int
    #: Whether in-use reached the grant since the last renewal.
    pinned: bool
    #: db_unavailable errors since the last renewal (an unreachable database, not a small pool).
    db_errors: int


@dataclass(frozen=True)
class Lease:
    """A live process's entry in the ledger."""

    report: LeaseReport
    granted: int
    #: Seconds since the epoch, on the ledger's clock (Redis TIME, PostgreSQL now()).
    expires_at: float

    @property
    def reserved(self) -> int:
        return max(self.granted, self.report.held)

    @property
    def starved(self) -> bool:
        return self.report.wanted > self.granted


def grant_for(me: LeaseReport, current: int, others: Sequence[Lease], *, budget: int, limit: int) -> int:
    """The grant for ``me`` (now holding ``current``) given every other live lease."""
    free = max(0, budget - sum(other.reserved for other in others))
    target = limit
    if any(other.starved for other in others):
        # Someone gets less than it asks for: keep only what this process uses (plus one), and
        # never more than a fair share.
        fair = max(me.minimum, budget // (len(others) + 1))
        target = min(limit, me.wanted, fair)
    grant = min(target, free)
    if current == 0 and grant < min(me.minimum, limit):
        # A starting process waits for its minimum rather than run on a share too small to be
        # useful; the others are held to their fair share meanwhile (it reports itself starved).
        return 0
    return grant


def wanted_sessions(*, role_minimum: int, limit: int, grant: int, peak_in_use: int, pressure: bool) -> int:
    """What a process asks for: the limit under pressure, else its minimum plus headroom of one."""
    if pressure:
        return limit
    return min(limit, max(role_minimum, peak_in_use + 1, min(grant, role_minimum)))
