"""The tuning state of the bot process: the last change, firing inhibitors, the quiet clock.

:class:`Tuner` turns a signal (a firing alert, a window of the adaptive controller) into a
:class:`~service.tuning.rule.Verdict` with the runbook rule and records it through
:class:`~service.tuning.decisions.Decisions`. Pool signals come from the budget ledger, so an
alert about a worker's pool is judged on that worker's lease, not on the bot's own pool.
"""

from __future__ import annotations

import asyncio
import logging
import time

from service.config import Settings
from service.db.budget import BudgetKeeper
from service.db.repository import LimitSource, Repository
from service.tuning.decisions import Decision, Decisions
from service.tuning.rule import PoolSignals, Verdict, on_pressure, on_quiet

log = logging.getLogger(__name__)


class Tuner:
    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        budget: BudgetKeeper | None,
        decisions: Decisions,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.budget = budget
        self.decisions = decisions
        self.cooldown = settings.session_limit_cooldown_seconds
        self._last_change: float | None = None
        #: Inhibiting alert → monotonic time until which it counts as firing.
        self._inhibitors: dict[str, float] = {}
        self._quiet_since = time.monotonic()
        #: (source, reason) of the last refusal and when: the same refusal is recorded once per
        #: cooldown, not on every window or repeated notification.
        self._last_hold: dict[tuple[str, str], float] = {}
        self._lock = asyncio.Lock()
        #: Where the webhook receiver listens (alerts mode; port 0 in settings picks a free one).
        self.webhook_port: int | None = None

    # --- signals -----------------------------------------------------------------------------

    def inhibit(self, alert: str, *, firing: bool, for_seconds: float) -> None:
        if firing:
            self._inhibitors[alert] = time.monotonic() + for_seconds
        else:
            self._inhibitors.pop(alert, None)

    def active_inhibitors(self) -> tuple[str, ...]:
        now = time.monotonic()
        return tuple(sorted(name for name, until in self._inhibitors.items() if until > now))

    def since_change(self) -> float | None:
        return None if self._last_change is None else time.monotonic() - self._last_change

    async def ledger_signals(
        self, *, waits_high: bool, db_errors: int = 0, queries_slower: bool = False
    ) -> PoolSignals:
        """Pool signals from every process's lease (or this process's pool without a ledger)."""
        limit = self.repo.session_limit
        if self.budget is None:
            return PoolSignals(
                waits_high=waits_high,
                pinned=False,
                pinned_at_limit=False,
                db_errors=db_errors,
                inhibitors=self.active_inhibitors(),
                budget=self.settings.session_budget,
                reserved=self.repo.pool_sessions,
                queries_slower=queries_slower,
            )
        # This process's newest numbers in the ledger first (without queueing for a session).
        await self.budget.renew(read_limit=False)
        leases = (await self.budget.status()).leases
        pinned = [lease for lease in leases if lease.report.pinned]
        return PoolSignals(
            waits_high=waits_high,
            pinned=bool(pinned),
            pinned_at_limit=any(lease.granted >= limit for lease in pinned),
            db_errors=db_errors + sum(lease.report.db_errors for lease in leases),
            inhibitors=self.active_inhibitors(),
            budget=self.settings.session_budget,
            reserved=sum(lease.reserved for lease in leases),
            queries_slower=queries_slower,
        )

    # --- decisions ---------------------------------------------------------------------------

    async def pressure(self, signals: PoolSignals, *, source: LimitSource, trigger: str) -> Decision | None:
        """Apply the rule to a sign of pressure; the decision, or None for a repeated refusal."""
        async with self._lock:
            verdict = on_pressure(
                signals,
                limit=self.repo.session_limit,
                ceiling=self.repo.session_limit_ceiling,
                since_change=self.since_change(),
                cooldown=self.cooldown,
            )
            self._quiet_since = time.monotonic()
            return await self._record(verdict, source=source, trigger=trigger)

    async def quiet(self, *, quiet: bool, source: LimitSource) -> Decision | None:
        """One quiet (or not) observation; lowers the limit after a sustained quiet period."""
        async with self._lock:
            now = time.monotonic()
            if not quiet:
                self._quiet_since = now
                return None
            verdict = on_quiet(
                quiet_for=now - self._quiet_since,
                quiet_needed=self.settings.session_limit_quiet_seconds,
                limit=self.repo.session_limit,
                floor=min(self.settings.supabase_session_limit, self.repo.session_limit_ceiling),
                since_change=self.since_change(),
                cooldown=self.cooldown,
            )
            if verdict is None:
                return None
            self._quiet_since = now
            return await self._record(verdict, source=source, trigger="quiet period")

    async def _record(self, verdict: Verdict, *, source: LimitSource, trigger: str) -> Decision | None:
        if verdict.direction == "hold":
            key = (source, verdict.reason.split(":")[0])
            last = self._last_hold.get(key)
            now = time.monotonic()
            if last is not None and now - last < max(
                self.cooldown, self.settings.session_limit_window_seconds
            ):
                log.debug("repeated refusal not recorded again", extra={"reason": verdict.reason})
                return None
            self._last_hold[key] = now
        decision = await self.decisions.record(
            direction=verdict.direction,
            new=verdict.new_limit,
            source=source,
            trigger=trigger,
            reason=verdict.reason,
        )
        if decision.direction != "hold":
            self._last_change = time.monotonic()
        return decision
