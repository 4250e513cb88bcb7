"""What ``/limit`` says: the service-wide limit, the connection budget, each process's share."""

from __future__ import annotations

from service.db.budget import BudgetStatus
from service.db.limit_store import LimitChange

NOTHING_TO_TUNE = (
    "This deployment uses SQLite, which works on one database connection: there is no session "
    "limit to tune. (Set DATABASE_URL to use PostgreSQL.)"
)


def usage(ceiling: int) -> str:
    return f"Usage: /limit — show the budget; /limit <1..{ceiling}> [reason] — change the limit."


def status(
    *, limit: int, ceiling: int, tuning: str, budget: BudgetStatus | None, last: LimitChange | None
) -> str:
    lines = [f"Session limit {limit} per process (ceiling {ceiling}), tuning: {tuning}."]
    if last is not None and last.changed_at is not None:
        lines.append(
            f"Last change: {last.previous} → {last.session_limit} by {last.source} {last.actor} "
            f"at {last.changed_at:%Y-%m-%d %H:%M} UTC: {last.reason}"
        )
    else:
        lines.append("Never changed: running on SUPABASE_SESSION_LIMIT.")
    if budget is not None:
        held = sum(lease.reserved for lease in budget.leases)
        lines.append(
            f"Budget {budget.budget} sessions (pool {budget.pool_size} − reserve {budget.reserve}), "
            f"{held} held; ledger: {budget.ledger}."
        )
        for lease in budget.leases:
            r = lease.report
            lines.append(
                f"• {r.process_id}: grant {lease.granted}, in use {r.in_use}, open ≤{r.held}, "
                f"waiting {r.waiting}{', pinned' if r.pinned else ''}"
            )
    lines.append(usage(ceiling))
    return "\n".join(lines)


def changed(previous: int, new: int) -> str:
    if previous == new:
        return f"Session limit is already {new}."
    return f"Session limit changed {previous} → {new} for every process (applied within seconds)."
