"""One process's side of the connection budget: hold a lease, size the pool to the grant.

:class:`BudgetKeeper` starts after the migrations (which ran on a session of the reserve): it
closes that connection, shrinks the pool to nothing and asks the ledger for a share, waiting for
at least its role's minimum. Then, every ``DB_BUDGET_LEASE_SECONDS / 5``, it

1. re-reads the service-wide limit from the database (so ``/limit`` reaches every process),
2. reports what the pool went through (pinned at its grant? callers waiting? db errors?),
3. renews the lease and resizes the pool to the new grant.

A process that cannot renew for most of its TTL stops admitting callers to new sessions (its
pool shrinks to 0) before the ledger hands its share to someone else: two processes must never
both believe they own the same sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass

from service.config import Settings
from service.db.budget.allocation import Lease, LeaseReport, wanted_sessions
from service.db.budget.ledger import Ledger, LocalLedger
from service.db.budget.pg_ledger import PgLedger
from service.db.budget.redis_ledger import RedisLedger
from service.db.postgres import PostgresRepository
from service.db.repository import Repository
from service.db.sql_repository import SqlRepository
from service.errors import CsvbotError
from telemetry import slo
from telemetry.metrics import Metrics, sample_totals

log = logging.getLogger(__name__)

#: Renewal failures tolerated before fencing, as a fraction of the lease TTL: the ledger expires
#: the lease at 1.0, so the pool is shut well before anyone else can be granted its share.
FENCE_FRACTION = 0.7
#: How often a starting process that got no share logs that it is waiting.
WAITING_LOG_SECONDS = 10.0


@dataclass(frozen=True)
class BudgetStatus:
    """What /limit shows about the budget."""

    ledger: str
    budget: int
    pool_size: int
    reserve: int
    leases: list[Lease]


class BudgetKeeper:
    def __init__(
        self,
        settings: Settings,
        repo: SqlRepository,
        ledger: Ledger,
        metrics: Metrics,
        *,
        role: str,
        process_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.ledger = ledger
        self.role = role
        self.process_id = process_id or f"{role}-{socket.gethostname()}-{os.getpid()}"
        self.minimum = slo.BUDGET_MIN_SESSIONS.get(role, 1)
        self.ttl = settings.db_budget_lease_seconds
        self.interval = self.ttl * slo.BUDGET_HEARTBEAT_FRACTION
        self._metrics = metrics
        self._window = repo.limiter.observe()
        self._grant = repo.pool_sessions
        self._last_renewal = time.monotonic()
        self._db_errors_seen = self._db_errors_total()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        #: When the pool was last pinned / had waiters: a lease reports pressure for a whole
        #: tuning window, not just the last heartbeat's few seconds.
        self._pressure_at = -float("inf")
        self._pinned_at = -float("inf")

    @property
    def grant(self) -> int:
        return self._grant

    async def start(self) -> None:
        """Take this process's first share (waiting for its minimum), then keep renewing."""
        # Nothing of the pool may stay open or be opened before the ledger grants a share: the
        # limit is read on a session of the reserve, like the migrations before it.
        await self._apply(0)
        close_idle = getattr(self.repo, "close_idle", None)
        if close_idle is not None:
            await close_idle()
        await self._read_limit(reserve=True)
        waited_since = time.monotonic()
        logged = waited_since
        while await self.renew() == 0:
            if time.monotonic() - logged >= WAITING_LOG_SECONDS:
                logged = time.monotonic()
                log.warning(
                    "waiting for a share of the database connection budget",
                    extra={"event": "budget_waiting", "waited_seconds": round(logged - waited_since, 1)},
                )
            await asyncio.sleep(self.interval)
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"budget-{self.process_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.ledger.release(self.process_id)
        await self.ledger.aclose()

    async def renew(self, *, read_limit: bool = True) -> int:
        """Renew now (also right after a decision changed the limit); the grant. Never raises.

        ``read_limit=False`` skips re-reading the limit and renews on the reserve: a caller that
        just stored it (or that acts because the pool is starved) must not queue behind the pool.
        """
        async with self._lock:
            # Callers queue for the pool: reading and renewing through it would wait behind them
            # (long enough, under starvation, to let the lease expire). The reserve it is.
            starved = self.repo.limiter.waiting > 0
            read_limit = read_limit and not starved
            try:
                if read_limit and self.repo.pool_sessions > 0:
                    await self._read_limit()
                elif starved and self.repo.pool_sessions > 0:
                    await self._read_limit(reserve=True)
                grant = await self.ledger.renew(
                    self._report(),
                    current=self._grant,
                    budget=self.settings.session_budget,
                    limit=self.repo.session_limit,
                    ttl=self.ttl,
                    reserve=not read_limit,
                )
            except (CsvbotError, OSError, ConnectionError, TimeoutError) as exc:
                self._metrics.db_budget_leases.labels("failed").inc()
                self._fence_if_stale(exc)
                return self._grant
            self._metrics.db_budget_leases.labels("ok").inc()
            self._last_renewal = time.monotonic()
            await self._apply(grant)
            return grant

    async def status(self) -> BudgetStatus:
        s = self.settings
        return BudgetStatus(
            ledger=self.ledger.kind,
            budget=s.session_budget,
            pool_size=s.supabase_pool_size,
            reserve=s.supabase_session_reserve,
            leases=sorted(await self.ledger.leases(), key=lambda lease: lease.report.process_id),
        )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.renew()

    async def _read_limit(self, *, reserve: bool = False) -> None:
        stored = await self.repo.read_session_limit(reserve=reserve)
        if stored is not None and stored.session_limit != self.repo.session_limit:
            log.info(
                "applying the service-wide session limit",
                extra={"event": "session_limit_adopted", "session_limit": stored.session_limit},
            )
            self.repo.adopt_session_limit(stored.session_limit)

    def _report(self) -> LeaseReport:
        window = self._window.take()
        limiter = self.repo.limiter
        now = time.monotonic()
        if window.pinned:
            self._pinned_at = now
        if window.pinned or window.peak_waiting > 0 or window.timeouts > 0:
            self._pressure_at = now
        recent = self.settings.session_limit_window_seconds
        pressure = now - self._pressure_at <= max(recent, self.interval)
        pinned = now - self._pinned_at <= max(recent, self.interval)
        errors = self._db_errors_total()
        db_errors, self._db_errors_seen = int(errors - self._db_errors_seen), errors
        return LeaseReport(
            process_id=self.process_id,
            role=self.role,
            minimum=self.minimum,
            # A share given back counts as held until the connections above it are closed.
            # (in use: a caller admitted under the old grant may still be opening its connection).
            held=max(self.repo.open_connections, limiter.in_use, self.repo.pool_sessions),
            wanted=wanted_sessions(
                role_minimum=self.minimum,
                limit=self.repo.session_limit,
                grant=self._grant,
                peak_in_use=window.peak_in_use,
                pressure=pressure,
            ),
            in_use=limiter.in_use,
            waiting=max(limiter.waiting, window.peak_waiting),
            pinned=pinned,
            db_errors=max(0, db_errors),
        )

    async def _apply(self, grant: int) -> None:
        if grant != self._grant or grant != self.repo.pool_sessions:
            if grant != self._grant:
                log.info(
                    "database session grant changed",
                    extra={"event": "budget_grant_changed", "previous_grant": self._grant, "grant": grant},
                )
            self._grant = grant
            await self.repo.resize_pool(grant)

    def _fence_if_stale(self, exc: BaseException) -> None:
        stale = time.monotonic() - self._last_renewal
        log.warning(
            "could not renew the database connection budget lease",
            extra={
                "event": "budget_renewal_failed",
                "error": type(exc).__name__,
                "stale_seconds": round(stale, 1),
            },
        )
        if stale >= self.ttl * FENCE_FRACTION and self._grant > 0:
            log.error(
                "database budget lease about to expire: admitting no new database sessions until renewed",
                extra={"event": "budget_fenced", "stale_seconds": round(stale, 1)},
            )
            self._grant = 0
            self.repo.limiter.set_limit(0)

    def _db_errors_total(self) -> float:
        errors = sample_totals(self._metrics.errors, component="db", kind="db_unavailable")
        return errors.get("csvbot_errors_total", 0.0)


def build_ledger(settings: Settings, repo: Repository) -> Ledger:
    """Redis when configured (shared with the broker), else the database's own table."""
    if settings.redis_url:
        return RedisLedger(settings.redis_url)
    if isinstance(repo, PostgresRepository):
        return PgLedger(repo, dict(slo.BUDGET_MIN_SESSIONS))
    return LocalLedger()


async def open_budget(
    settings: Settings, repo: Repository, metrics: Metrics, *, role: str
) -> BudgetKeeper | None:
    """A started keeper for ``repo``, or None where there is no budget (SQLite: one connection)."""
    if not repo.tunable or not isinstance(repo, SqlRepository):
        return None
    keeper = BudgetKeeper(settings, repo, build_ledger(settings, repo), metrics, role=role)
    await keeper.start()
    return keeper
