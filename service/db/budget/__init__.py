"""The connection budget: every process's share of the pooler's sessions, kept in one ledger.

Start here: :func:`open_budget` (used by :func:`service.process.open_process`) returns a started
:class:`BudgetKeeper`; :mod:`~service.db.budget.allocation` holds the rule that keeps the sum of
the shares within ``SUPABASE_POOL_SIZE - SUPABASE_SESSION_RESERVE``.
"""

from service.db.budget.allocation import Lease, LeaseReport, grant_for
from service.db.budget.keeper import BudgetKeeper, BudgetStatus, build_ledger, open_budget
from service.db.budget.ledger import Ledger, LocalLedger

__all__ = [
    "BudgetKeeper",
    "BudgetStatus",
    "Lease",
    "LeaseReport",
    "Ledger",
    "LocalLedger",
    "build_ledger",
    "grant_for",
    "open_budget",
]
