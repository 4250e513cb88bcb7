"""Every decision about the session limit, taken or refused: applied, logged, counted, told.

One place for all sources (an operator's /limit, the Alertmanager webhook, the adaptive
controller), so each decision is a WARNING log line with its reason, one increment of
``csvbot_db_session_limit_changes_total{direction,source}`` and a Telegram message to every
``ADMIN_IDS`` operator. A change is stored in the database (who, when, why) and this process's
lease is renewed at once, so its pool follows within the call; the others follow at their next
renewal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiohttp import ClientError

from service.db.budget import BudgetKeeper
from service.db.repository import LimitSource, Repository
from service.errors import CsvbotError
from service.tuning.rule import Direction
from telemetry.metrics import Metrics

log = logging.getLogger(__name__)

Notify = Callable[[str], Coroutine[Any, Any, None]]
#: How long shutdown waits for decision messages still being sent.
DRAIN_SECONDS = 5.0


@dataclass(frozen=True)
class Decision:
    direction: Direction
    source: LimitSource
    previous: int
    new: int
    reason: str
    #: Who or what asked: an operator's id, an alert name, ``controller``.
    trigger: str

    def describe(self) -> str:
        if self.direction == "hold":
            return f"Session limit stays at {self.previous} ({self.source}, {self.trigger}): {self.reason}"
        return f"Session limit {self.previous} → {self.new} ({self.source}, {self.trigger}): {self.reason}"


class Decisions:
    def __init__(
        self, repo: Repository, budget: BudgetKeeper | None, metrics: Metrics, notify: Notify | None
    ) -> None:
        self._repo = repo
        self._budget = budget
        self._metrics = metrics
        self._notify = notify
        self._sending: set[asyncio.Task[None]] = set()

    async def record(
        self, *, direction: Direction, new: int, source: LimitSource, trigger: str, reason: str
    ) -> Decision:
        previous = self._repo.session_limit
        if direction != "hold":
            change = await self._repo.set_session_limit(new, source=source, actor=trigger, reason=reason)
            previous = change.previous if change.previous is not None else previous
            if self._budget is not None:
                await self._budget.renew(read_limit=False)
        decision = Decision(
            direction, source, previous, new if direction != "hold" else previous, reason, trigger
        )
        self._metrics.db_session_limit_changes.labels(source, direction).inc()
        log.warning(
            decision.describe(),
            extra={
                "event": "session_limit_decision",
                "direction": direction,
                "source": source,
                "trigger": trigger,
                "previous_limit": decision.previous,
                "session_limit": decision.new,
                "reason": reason,
            },
        )
        if self._notify is not None:
            # In the background: Telegram rate limits may hold a message for a while, and the
            # webhook must answer Alertmanager within its timeout.
            task = asyncio.get_running_loop().create_task(self._notify(decision.describe()))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return decision

    async def drain(self) -> None:
        """Let messages being sent finish (bounded), at shutdown; cancel what is left, so that no
        send outlives the Bot session closed after this (aiohttp would open a new one, unclosed)."""
        if not self._sending:
            return
        _, late = await asyncio.wait(set(self._sending), timeout=DRAIN_SECONDS)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=DRAIN_SECONDS)


def notify_admins(bot: Bot, admin_ids: tuple[int, ...]) -> Notify:
    """Send a decision to every operator; an unreachable Telegram costs a log line, not the decision."""

    async def send(text: str) -> None:
        for admin in admin_ids:
            try:
                await bot.send_message(admin, text)
            except (TelegramAPIError, CsvbotError, ClientError, TimeoutError) as exc:
                log.warning(
                    "could not tell an operator about a session limit decision",
                    extra={"event": "session_limit_notify_failed", "error": type(exc).__name__},
                )

    return send
