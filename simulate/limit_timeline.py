"""The session limit's timeline of a run: every change with its reason, and the refusals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry

from service.db import Repository
from telemetry.labels import LIMIT_CHANGE_SOURCES


async def limit_timeline(repo: Repository, *, started: datetime) -> list[dict[str, Any]]:
    """The changes stored during the run, oldest first (empty on SQLite without a model)."""
    if not repo.tunable:
        return []
    history = await repo.session_limit_history(100)
    rows = []
    for change in reversed(history):
        if change.changed_at is None or change.changed_at < started:
            continue
        rows.append(
            {
                "at_seconds": round((change.changed_at - started).total_seconds(), 1),
                "previous": change.previous,
                "session_limit": change.session_limit,
                "source": change.source,
                "trigger": change.actor,
                "reason": change.reason,
            }
        )
    return rows


def refusals(registry: CollectorRegistry) -> int:
    """Decisions to hold the limit (each logged with its reason)."""
    total = 0.0
    for source in LIMIT_CHANGE_SOURCES:
        labels = {"source": source, "direction": "hold"}
        total += registry.get_sample_value("csvbot_db_session_limit_changes_total", labels) or 0.0
    return int(total)
