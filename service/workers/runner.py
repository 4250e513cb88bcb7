"""One job, start to finish: claim → download → process → upload → record → tell the user.

The job row is the truth. A task carries only the job id (and its trace context); the worker
claims the row atomically, so a redelivered task for a job that is running elsewhere or already
final does nothing. Failures end with a status, an error kind and a clear message to the user;
a retryable failure with attempts left goes back on the queue after a backoff.

Every write after the claim is fenced by the claim's token (``Job.token``): a worker whose claim
is no longer current — it stalled past its lease and another worker took the job — has its lease
renewal, finish or failure refused, stops at once, logs why and sends the user nothing. Once the
job is done, sending its result is the :class:`~service.workers.delivery.Deliverer`'s step; a
failure there never turns a finished job into a failed one.

Whatever is lost on the way (a kick that failed, a backoff cut short by shutdown) leaves the row
``queued``, where the sweeper (:mod:`service.workers.reaper`) finds it and queues it again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from service import messages
from service.bot.callbacks import cancel_markup
from service.control.cancel import JobCancelledError, checkpoint, stop_cancelled
from service.csvkit import CsvLimits, CsvResult
from service.db import Job, JobStatus
from service.deps import Services
from service.errors import CsvbotError, InternalError, JobNotFoundError, OutageError, RetryableError
from service.i18n.errors import exception_text
from service.i18n.users import speaking_to
from service.results.export import export_for_user, summary_extra
from service.storage.keys import cleaned_key, profile_key
from service.workers.csv_pool import CsvExecutor, ThreadCsv
from service.workers.delivery import Deliverer
from service.workers.progress import ProgressReporter
from telemetry import slo
from telemetry.tracing import exemplar, extract_context, inject_context

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

#: Claim attempts before a task is put back on the queue (full-jitter backoff, capped below).
CLAIM_ATTEMPTS = 5
CLAIM_BACKOFF_CAP_SECONDS = 8.0

#: Re-enqueues a job: (job id, trace context).
Kick = Callable[[str, dict[str, str]], Awaitable[None]]


class JobRunner:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        kick: Kick,
        *,
        lease_seconds: float,
        concurrency: int | None = None,
        csv: CsvExecutor | None = None,
    ) -> None:
        self.services = services
        #: Where CSV work runs: child processes (service/workers/csv_pool.py) or, by default, a thread.
        self.csv = csv or ThreadCsv()
        self.bot = bot
        self.kick = kick
        self.lease_seconds = lease_seconds
        self.limits = CsvLimits(
            max_bytes=services.settings.max_upload_bytes,
            max_rows=services.settings.max_rows,
            max_columns=services.settings.max_columns,
            max_field_chars=services.settings.max_field_chars,
        )
        #: The in-process broker starts a task per job without bound; this keeps the number of
        #: jobs worked on at once at WORKER_CONCURRENCY (queued jobs wait here, still queued).
        self._slots = asyncio.Semaphore(concurrency or services.settings.worker_concurrency)
        #: Tasks running a job, so that shutdown can wait for them and then cancel the rest.
        self.active: set[asyncio.Task[object]] = set()
        self.deliverer = Deliverer(services, bot)
        #: Jobs whose lease renewal was refused: their task is cancelled and ends quietly.
        self._fenced: set[str] = set()
        #: Jobs whose renewal was refused because their user cancelled them: stopped the same way.
        self._cancelled: set[str] = set()
        self._leases: dict[str, asyncio.Task[None]] = {}

    async def drain(self, grace_seconds: float) -> None:
        """Let running jobs finish for up to ``grace_seconds``, then cancel what is left.

        A cancelled job keeps its row ``running`` until its lease expires; the reaper of any
        process then queues it again, so nothing is lost.
        """
        pending = {t for t in self.active if not t.done()}
        if not pending:
            return
        _, still = await asyncio.wait(pending, timeout=grace_seconds)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=5)
            log.warning("jobs cancelled at shutdown; their leases will expire", extra={"jobs": len(still)})

    async def run(self, job_id: str, carrier: dict[str, str]) -> None:
        """Entry point of the task: never raises (the queue must ack). Every claimed job ends
        recorded (status, metrics, log line); a job that cannot be claimed goes back on the queue."""
        task = asyncio.current_task()
        if task is not None:
            self.active.add(task)
            task.add_done_callback(self.active.discard)
        async with self._slots:
            await self._run(job_id, carrier)

    async def _run(self, job_id: str, carrier: dict[str, str]) -> None:
        with tracer.start_as_current_span(
            "worker.process_job", context=extract_context(carrier), kind=trace.SpanKind.CONSUMER
        ) as span:
            span.set_attribute("csvbot.job_id", job_id)
            job = await self._claim(job_id, carrier, span)
            if job is not None:
                async with speaking_to(self.services, job.user_id):  # progress and results in their language
                    await self._run_claimed(job, span)

    async def _claim(self, job_id: str, carrier: dict[str, str], span: trace.Span) -> Job | None:
        """Claim the job, riding out a busy or briefly unavailable database.

        A claim that fails for good must not lose the job: the queue has already delivered (and
        will acknowledge) this task, and the row stays ``queued``, which no reaper revisits. So
        after the last attempt the task is put back on the queue.
        """
        for attempt in range(1, CLAIM_ATTEMPTS + 1):
            try:
                job = await self.services.repo.claim_job(job_id, self.lease_seconds)
            except JobNotFoundError:
                log.warning("task for a job that does not exist", extra={"job_id": job_id})
                return None
            except RetryableError as exc:
                span.add_event("claim_failed", {"error_kind": exc.kind, "attempt": attempt})
                if attempt == CLAIM_ATTEMPTS:
                    log.warning(
                        "could not claim the job; putting its task back on the queue",
                        extra={"event": "claim_requeued", "job_id": job_id, "error_kind": exc.kind},
                    )
                    self.services.metrics.jobs_requeued.labels("retry").inc()
                    await self._kick_or_leave_to_sweeper(job_id, carrier)
                    return None
                await asyncio.sleep(random.uniform(0, min(CLAIM_BACKOFF_CAP_SECONDS, 0.5 * 2**attempt)))
                continue
            if job is None:  # an undelivered result is the sweeper's to send, not this task's
                log.info(
                    "job is not claimable (running elsewhere or finished); nothing to do",
                    extra={"event": "job_skipped", "job_id": job_id},
                )
            return job
        return None

    async def _run_claimed(self, job: Job, span: trace.Span) -> None:
        metrics = self.services.metrics
        started = time.perf_counter()
        queued_at = job.queued_at or job.created_at
        # The exemplar links the queue-wait panel's dots to this job's trace.
        metrics.job_queue_wait.observe(max(0.0, (_now() - queued_at).total_seconds()), exemplar())
        metrics.jobs_in_flight.inc()
        outcome, error_kind, result = "ok", None, None
        workdir = Path(tempfile.mkdtemp(prefix=f"csvbot-job-{job.id}-"))
        progress = ProgressReporter(self.bot, job.chat_id, job.progress_message_id, job.id)
        progress.reply_markup = cancel_markup(self.services.settings, job.id, job.user_id)
        owner = asyncio.current_task()
        lease = asyncio.get_running_loop().create_task(self._keep_lease(job, owner), name=f"lease-{job.id}")
        self._leases[job.id] = lease
        try:
            result = await self._pipeline(job, workdir, progress)
        except JobCancelledError:
            outcome, error_kind = "rejected", "cancelled"
            await self._stop_cancelled(job, progress)
        except asyncio.CancelledError:
            if owner is None or (job.id not in self._fenced and job.id not in self._cancelled):
                raise
            owner.uncancel()  # cancelled by our own lease keeper, not by shutdown
            outcome, error_kind = await self._stopped_by_lease_keeper(job, progress)
        except Fenced as fenced:
            self._count_fenced(job, fenced.write)
            outcome = "fenced"
        except Exception as exc:
            error = exc if isinstance(exc, CsvbotError) else InternalError(repr(exc))
            error_kind = error.kind
            outcome = await self._handle_failure(job, error, exc, progress)
            span.set_status(Status(StatusCode.ERROR, error_kind))
        finally:
            self._fenced.discard(job.id)
            self._cancelled.discard(job.id)
            self._leases.pop(job.id, None)
            lease.cancel()
            await asyncio.gather(lease, return_exceptions=True)
            await progress.aclose()
            metrics.jobs_in_flight.dec()
            elapsed = time.perf_counter() - started
            # A retried or fenced attempt is a failed attempt as far as its duration goes; the job
            # itself is counted once, when it ends (by whichever worker ends it).
            attempt_outcome = "failed" if outcome in {"retry", "fenced"} else outcome
            metrics.job_duration.labels(attempt_outcome).observe(elapsed, exemplar=exemplar())
            span.set_attribute("csvbot.outcome", outcome)
            if outcome not in {"retry", "fenced"}:
                metrics.jobs.labels(outcome).inc()
                metrics.upload_to_result.labels(outcome).observe(
                    max(0.0, (_now() - job.created_at).total_seconds()), exemplar=exemplar()
                )
            # One canonical line per job attempt, with everything an operator asks first.
            log.info(
                {"retry": "job will be retried", "fenced": "job attempt abandoned: claim lost"}.get(
                    outcome, "job finished"
                ),
                extra={
                    "event": "job_end",
                    "job_id": job.id,
                    "outcome": outcome,
                    "error_kind": error_kind,
                    "attempt": job.attempts,
                    "rows": result.rows_in if result else None,
                    "bytes_in": result.bytes_in if result else job.file_size,
                    "bytes_out": result.bytes_out if result else None,
                    "duration_seconds": round(elapsed, 4),
                },
            )
            # Last, and in a thread: unlinking a 20 MB input and its cleaned copy on the loop held
            # it ~8 ms (more on a busy disk). Once started, the removal finishes even if this task
            # is cancelled while it waits, and the bookkeeping above is already done.
            await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)

    async def _keep_lease(self, job: Job, owner: asyncio.Task[object] | None) -> None:
        """Extend the job's lease while it runs, so a long job is not mistaken for a dead one.
        A renewal refused (another worker holds the job now) stops the job: ``owner`` is cancelled."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                renewed = await self.services.repo.renew_lease(
                    job.id, attempt=job.token, lease_seconds=self.lease_seconds
                )
            except CsvbotError as exc:  # the next renewal may succeed; the lease has slack
                log.warning(
                    "could not extend the job lease", extra={"job_id": job.id, "error_kind": exc.kind}
                )
                continue
            if renewed is None:
                # A cancel ends the row too (renewal needs ``running``): that is no lost claim.
                if await self._was_cancelled(job.id):
                    self._cancelled.add(job.id)
                else:
                    self._count_fenced(job, "renew")
                    self._fenced.add(job.id)
                if owner is not None:
                    owner.cancel()
                return

    async def _was_cancelled(self, job_id: str) -> bool:
        try:
            await checkpoint(self.services, job_id)
        except JobCancelledError:
            return True
        except CsvbotError:
            return False
        return False

    async def _stopped_by_lease_keeper(self, job: Job, progress: ProgressReporter) -> tuple[str, str | None]:
        """The outcome of a job its lease keeper stopped: its user cancelled it while it ran
        (processing, say), or another worker holds it now."""
        if job.id in self._cancelled:
            await self._stop_cancelled(job, progress)
            return "rejected", "cancelled"
        return "fenced", None

    async def _stop_cancelled(self, job: Job, progress: ProgressReporter) -> None:
        await stop_cancelled(self.services, job)
        await progress.final(messages.cancelled(job.id))

    def _count_fenced(self, job: Job, write: str) -> None:
        self.services.metrics.fenced_writes.labels(write).inc()
        log.warning(
            "job write refused: this worker's claim is no longer current; stopping, sending nothing",
            extra={"event": "job_fenced", "job_id": job.id, "attempt": job.token, "write": write},
        )

    async def _kick_or_leave_to_sweeper(self, job_id: str, carrier: dict[str, str]) -> None:
        """Put the job's task back on the queue. A kick that fails leaves the row ``queued``:
        the sweeper queues it again, so the failure is logged, never raised into the queue."""
        try:
            await self.kick(job_id, carrier)
        except Exception as exc:
            log.warning(
                "could not put the job back on the queue; the sweeper will",
                extra={"event": "kick_failed", "job_id": job_id, "error": type(exc).__name__},
            )

    async def _pipeline(self, job: Job, workdir: Path, progress: ProgressReporter) -> CsvResult:
        services, metrics = self.services, self.services.metrics
        if job.input_key is None:
            raise InternalError(f"job {job.id} has no input key")
        await progress.stage("downloading")
        with _stage(metrics, "download"):
            input_path = await services.storage.download_to_file(job.input_key, workdir)
        await checkpoint(services, job.id)

        await progress.stage("processing", 0.0)
        out_dir = workdir / "out"
        out_dir.mkdir()
        loop = asyncio.get_running_loop()

        def report(fraction: float) -> None:  # called from the processing thread
            loop.call_soon_threadsafe(progress.fraction, fraction)

        with _stage(metrics, "process"), tracer.start_as_current_span("csv.process") as span:
            result = await self.csv.run(
                input_path,
                out_dir,
                self.limits,
                report,
                deadline=services.settings.job_process_timeout_seconds,
            )
            span.set_attribute("csv.rows", result.rows_in)
            span.set_attribute("csv.columns", result.columns)
        metrics.csv_rows.inc(result.rows_in)
        exported = await export_for_user(result, out_dir)
        await checkpoint(services, job.id)

        await progress.stage("saving results")
        keys = cleaned_key(job.user_id, job.id), profile_key(job.user_id, job.id)
        with _stage(metrics, "upload"):
            await services.storage.upload_file(keys[0], exported.cleaned, exported.content_type)
            await services.storage.upload_file(keys[1], exported.profile, exported.content_type)
        summary = {**_summary(result), **summary_extra(result, exported)}
        done = await services.repo.finish_job(
            job.id, cleaned_key=keys[0], profile_key=keys[1], summary=summary, attempt=job.token
        )
        if done is None:
            await checkpoint(services, job.id)  # cancelled meanwhile: stop as cancelled
            raise Fenced("finish")
        # Done: the job lease ends here (renewing it would be refused); delivery has its own.
        finished_lease = self._leases.pop(job.id, None)
        if finished_lease is not None:
            finished_lease.cancel()

        with _stage(metrics, "notify"):
            await progress.final(messages.done(job.id))
            # Never raises: a result that cannot be sent now is the sweeper's to send later.
            files = {"cleaned": exported.cleaned, "profile": exported.profile}
            await self.deliverer.deliver(done, files=files)
        return result

    async def _handle_failure(
        self, job: Job, error: CsvbotError, original: BaseException, progress: ProgressReporter
    ) -> str:
        """Record the failure; re-enqueue if it can help. Returns the job's outcome label."""
        metrics, repo = self.services.metrics, self.services.repo
        metrics.count_error("worker", error.kind)
        if isinstance(original, CsvbotError):
            log.warning(
                "job attempt failed: %s", error.kind, extra={"job_id": job.id, "error_kind": error.kind}
            )
        else:
            log.error("job crashed", exc_info=original, extra={"job_id": job.id, "error_kind": error.kind})
        try:
            updated = await repo.fail_job(
                job.id,
                kind=error.kind,
                message=error.user_message,
                retryable=error.retryable,
                attempt=job.token,
                # An outage the service outlives must not use up the job's attempts (nor make its
                # user send the file again): the repository gives the attempt back to a young job.
                outage=isinstance(error, OutageError),
            )
        except CsvbotError:
            log.warning(
                "could not record the failure; the reaper will retry the job", extra={"job_id": job.id}
            )
            return "failed"
        if updated is None:
            self._count_fenced(job, "fail")
            return "fenced"
        if updated.status is JobStatus.QUEUED:
            outage = updated.outage_retries > job.outage_retries  # this attempt was given back
            age = max(0.0, (_now() - job.created_at).total_seconds())
            metrics.jobs_requeued.labels("outage" if outage else "retry").inc()
            counted = updated.attempts - updated.outage_retries
            await progress.final(
                messages.waiting_out_outage(job.id)
                if outage
                else messages.retrying(job.id, counted, self.services.settings.job_max_attempts)
            )
            # Shutdown during the wait leaves the row queued: the sweeper queues it again.
            await asyncio.sleep(retry_backoff(counted, age if outage else None))
            await self._kick_or_leave_to_sweeper(job.id, job.trace_context or inject_context())
            return "retry"
        outcome = "rejected" if updated.status is JobStatus.REJECTED else "failed"
        await progress.final(messages.failed(job.id, exception_text(error, self.services.settings)))
        return outcome


def retry_backoff(counted_attempts: int, outage_age_seconds: float | None) -> float:
    """Full jitter before the next attempt, so a storage brownout is not hammered. An outage
    retry waits longer the longer the job has waited (a quarter of its age, from 2 s), so a long
    outage costs a few attempts a minute, not one every few seconds; both capped."""
    ceiling = 2.0**counted_attempts if outage_age_seconds is None else max(2.0, outage_age_seconds / 4)
    return random.uniform(0, min(slo.JOB_RETRY_BACKOFF_CAP_SECONDS, ceiling))


class Fenced(Exception):
    """A write of this job was refused: another worker holds it now."""

    def __init__(self, write: str) -> None:
        super().__init__(write)
        self.write = write


class _stage:
    """Time one stage of a job into ``csvbot_job_stage_duration_seconds{stage}``."""

    def __init__(self, metrics: Any, name: str) -> None:
        self.metrics, self.name = metrics, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.metrics.job_stage_duration.labels(self.name).observe(time.perf_counter() - self.started)


def _summary(result: CsvResult) -> dict[str, Any]:
    return {
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "columns": result.columns,
        "duplicates_removed": result.duplicates_removed,
        "malformed_rows": result.malformed_rows,
        "encoding": result.encoding,
        "delimiter": result.delimiter,
        "has_header": result.has_header,
        "bytes_in": result.bytes_in,
        "bytes_out": result.bytes_out,
    }


def _now() -> datetime:
    return datetime.now(UTC)
