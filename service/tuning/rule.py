"""The runbook rule for the session limit, as the README's runbooks write it — pure.

Raise by one when the pool is the bottleneck (some process is pinned at its grant, its grant is
the whole limit, and callers wait longer than the threshold); never when storage timeouts or an
unreachable database are the cause (more sessions only add load to a database that cannot
answer, and do nothing for storage); never past the ceiling (``SUPABASE_SESSION_LIMIT_MAX``,
itself capped by the connection budget); never within the cooldown of the last change. Lower by
one after a sustained quiet period, never below ``SUPABASE_SESSION_LIMIT``.

Both tuning modes use it: the Alertmanager webhook (the alert says that waits are high) and the
adaptive controller (which measures them itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["up", "down", "hold"]


@dataclass(frozen=True)
class PoolSignals:
    """What the service looks like when a decision is due."""

    #: Callers wait for sessions longer than POOL_WAIT_P95_MAX_SECONDS (or time out).
    waits_high: bool
    #: Some process's in-use reached its grant lately.
    pinned: bool
    #: ... and that process's grant is the whole limit (more limit would reach it).
    pinned_at_limit: bool
    #: db_unavailable errors lately: the database, not the pool, fails.
    db_errors: int
    #: Inhibiting alerts firing now (CsvbotStorageTimeoutsHigh).
    inhibitors: tuple[str, ...]
    #: The whole service's connection budget, and what its processes hold of it now.
    budget: int
    reserved: int
    #: Queries hold sessions much longer than usual: the database itself got slow.
    queries_slower: bool = False
    #: Waits are falling fast (the adaptive controller's windows): the last step still works.
    improving: str | None = None


@dataclass(frozen=True)
class Verdict:
    direction: Direction
    new_limit: int
    reason: str


def on_pressure(
    signals: PoolSignals, *, limit: int, ceiling: int, since_change: float | None, cooldown: float
) -> Verdict:
    """The decision when something says the pool may be too small."""

    since = since_change if since_change is not None else float("inf")
    # In the runbook's order: the first that applies is the reason to hold.
    refusals = (
        (bool(signals.inhibitors), f"{', '.join(signals.inhibitors)} firing: more sessions will not help"),
        (
            signals.db_errors > 0,
            f"the database is unreachable ({signals.db_errors} db_unavailable errors): "
            "more sessions will not help",
        ),
        (not signals.waits_high, "pool waits are below the threshold"),
        (
            signals.queries_slower,
            "queries hold their sessions much longer than before: the database is slow, not the pool",
        ),
        (not signals.pinned, "no process is pinned at its grant: the pool is not the bottleneck"),
        (since < cooldown, f"cooldown: last change {since:.0f}s ago, next step after {cooldown:.0f}s"),
        (
            signals.improving is not None,
            f"waits are falling ({signals.improving}): the last step is still draining the backlog",
        ),
        (
            limit >= ceiling,
            f"already at the ceiling ({ceiling}): reduce WORKER_CONCURRENCY or get a bigger pooler",
        ),
        (
            not signals.pinned_at_limit,
            f"the connection budget is exhausted ({signals.reserved} of {signals.budget} held): "
            "a higher limit would not reach the pinned process",
        ),
    )
    for applies, reason in refusals:
        if applies:
            return Verdict("hold", limit, reason)
    return Verdict(
        "up",
        limit + 1,
        f"the pool is the bottleneck: pinned at its grant of {limit} with waits above the threshold",
    )


def on_quiet(
    *,
    quiet_for: float,
    quiet_needed: float,
    limit: int,
    floor: int,
    since_change: float | None,
    cooldown: float,
) -> Verdict | None:
    """Lower by one after ``quiet_needed`` seconds of quiet; None while there is nothing to decide."""
    if limit <= floor or quiet_for < quiet_needed:
        return None
    if since_change is not None and since_change < cooldown:
        return None
    return Verdict(
        "down", limit - 1, f"quiet for {quiet_for:.0f}s: no waits and no process pinned at its grant"
    )
