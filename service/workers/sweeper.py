"""The sweeper: everything a job needs next, found from its row alone and done again.

Runs inside the reaper's tick in every process that runs jobs, and once at start-up:

* a **queued** job that nobody claimed for ``JOB_QUEUED_STALE_SECONDS`` has lost its task — a
  kick that failed (in the reaper, in a job's retry, in the bot after the upload), a shutdown
  during a retry's backoff, a Redis that restarted without its data — and is kicked again. At the
  start of a process with the in-process broker every queued job is kicked at once: its queue
  died with the previous process.
* a **received** job whose input is stored and that is still not queued after
  ``JOB_RECEIVED_STALE_SECONDS`` was left by a bot that stopped in between: it is queued.
* a **done** job not delivered, whose delivery lease expired (its deliverer died, or a failed
  attempt's backoff is over), is claimed and delivered by this process; one past
  DELIVERY_MAX_ATTEMPTS is given up, and its user told (best-effort) to ask for it with ``/job``.

A kick that fails is remembered and tried again on the next tick, and never stops the rest of
the list; a process that dies with such a kick pending leaves the row queued, which the next
sweep finds again. A duplicate task is harmless: the claim is atomic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

from service import messages
from service.db import Job
from service.deps import Services
from service.i18n.users import speaking_to
from service.workers.delivery import Deliverer
from service.workers.runner import Kick
from telemetry import slo

log = logging.getLogger(__name__)

#: Deliveries one process sends at once (each is two documents to one chat).
DELIVERY_CONCURRENCY = 2


class Sweeper:
    def __init__(
        self,
        services: Services,
        kick: Kick,
        deliverer: Deliverer,
        *,
        kick_all_queued_at_start: bool = False,
    ) -> None:
        self.services = services
        self.kick = kick
        self.deliverer = deliverer
        self._first_sweep_takes_all_queued = kick_all_queued_at_start
        #: Kicks that failed, by job id, with their reason and trace context: tried every tick.
        self._failed_kicks: dict[str, tuple[str, dict[str, str]]] = {}
        self._deliveries: set[asyncio.Task[str]] = set()
        self._delivery_slots = asyncio.Semaphore(DELIVERY_CONCURRENCY)

    @property
    def pending_kicks(self) -> int:
        return len(self._failed_kicks)

    async def kick_jobs(self, jobs: list[Job], reason: str) -> None:
        """Kick every job; a failure is kept for the next tick and the list goes on."""
        for job in jobs:
            await self._kick(job.id, reason, job.trace_context)

    async def sweep(self) -> None:
        """One pass; each step runs even when an earlier one failed (the database may be back)."""
        settings, repo = self.services.settings, self.services.repo
        await self._retry_failed_kicks()
        queued_after = 0.0 if self._first_sweep_takes_all_queued else settings.job_queued_stale_seconds
        steps: tuple[tuple[str, Callable[[], Awaitable[list[Job]]]], ...] = (
            ("task_lost", partial(repo.kick_stale_queued, stale_after=queued_after)),
            ("never_queued", partial(repo.resume_received, stale_after=slo.JOB_RECEIVED_STALE_SECONDS)),
        )
        for reason, find in steps:
            try:
                jobs = await find()
            except Exception as exc:
                log.warning(
                    "sweep step failed; next tick", extra={"step": reason, "error": type(exc).__name__}
                )
                continue
            if reason == "task_lost":
                self._first_sweep_takes_all_queued = False
            for job in jobs:
                log.warning(
                    "job found without a task; queued again",
                    extra={"event": "job_swept", "job_id": job.id, "reason": reason},
                )
            await self.kick_jobs(jobs, reason)
        try:
            await self._claim_deliveries()
        except Exception as exc:
            log.warning("delivery sweep failed; next tick", extra={"error": type(exc).__name__})

    async def _retry_failed_kicks(self) -> None:
        for job_id, (reason, carrier) in list(self._failed_kicks.items()):
            if await self._kick(job_id, reason, carrier, retry=True):
                self.services.metrics.jobs_requeued.labels("kick_failed").inc()

    async def _kick(self, job_id: str, reason: str, carrier: dict[str, str], *, retry: bool = False) -> bool:
        try:
            await self.kick(job_id, carrier)
        except Exception as exc:
            if job_id not in self._failed_kicks:
                log.warning(
                    "could not put a job on the queue; trying again next tick",
                    extra={"event": "kick_failed", "job_id": job_id, "error": type(exc).__name__},
                )
            self._failed_kicks[job_id] = (reason, carrier)
            return False
        self._failed_kicks.pop(job_id, None)
        if not retry:
            self.services.metrics.jobs_requeued.labels(reason).inc()
        return True

    async def _claim_deliveries(self) -> None:
        metrics = self.services.metrics
        free = DELIVERY_CONCURRENCY - len(self._deliveries)
        if free <= 0:
            return  # still sending the last batch; the rest waits for a later tick
        claims = await self.services.repo.claim_deliveries(
            max_attempts=slo.DELIVERY_MAX_ATTEMPTS,
            lease_seconds=self.services.settings.job_lease_seconds,
            limit=free,
        )
        for job in claims.abandoned:
            metrics.deliveries.labels("abandoned").inc()
            log.error(
                "result not delivered after every attempt; giving up",
                extra={"event": "delivery_abandoned", "job_id": job.id, "attempts": job.delivery_attempts},
            )
            self._spawn(self._tell_abandoned(job), name=f"abandoned-{job.id}")
        for job in claims.claimed:
            log.warning(
                "result not delivered; sending it now",
                extra={
                    "event": "delivery_resumed",
                    "job_id": job.id,
                    "delivery_attempt": job.delivery_attempts,
                },
            )
            self._spawn(self._deliver(job), name=f"deliver-{job.id}")

    def _spawn(self, work: Coroutine[Any, Any, str], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, job: Job) -> str:
        async with self._delivery_slots:
            return await self.deliverer.deliver(job)

    async def _tell_abandoned(self, job: Job) -> str:
        """One last message, best-effort: the result exists and ``/job`` sends it on request."""
        async with self._delivery_slots, speaking_to(self.services, job.user_id):
            try:
                await self.deliverer.bot.send_message(job.chat_id, messages.result_not_sent(job.id))
            except Exception as exc:  # Telegram may be why the delivery failed: a log line, no more
                log.warning(
                    "could not tell the user their result was not sent",
                    extra={"event": "abandon_notice_failed", "job_id": job.id, "error": type(exc).__name__},
                )
                return "unsent"
        return "told"

    async def aclose(self, grace_seconds: float = 10.0) -> None:
        """Let deliveries in progress finish for up to ``grace_seconds``, then cancel them:
        their leases expire and another sweep sends what was not recorded."""
        pending = [t for t in self._deliveries if not t.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace_seconds)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
