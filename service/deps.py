"""The long-lived objects a process shares, built once at start-up and passed down explicitly.

Frozen and built by keyword (:func:`service.process.open_process`): nothing swaps a dependency
under a running handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.config import Settings
from telemetry.metrics import Metrics
from telemetry.server import HealthState

if TYPE_CHECKING:
    from service.db import Repository
    from service.db.budget import BudgetKeeper
    from service.storage import Storage

#: Hands a job to a worker: (job id, W3C trace context of the upload).
Enqueue = Callable[[str, dict[str, str]], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    metrics: Metrics
    repo: Repository
    storage: Storage
    enqueue: Enqueue
    health: HealthState
    #: This process's share of the connection budget (None on SQLite: nothing to share).
    budget: BudgetKeeper | None = None
