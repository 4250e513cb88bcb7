"""One job, start to finish: claim → download → process → upload → record → tell the user.

The job row is the truth. A task carries only the job id (and its trace context); the worker
claims the row atomically, so a redelivered task for a job that is running elsewhere or already
final does nothing. Failures end with a status, an error kind and a clear message to the user;
a retryable failure with attempts left goes back on the queue after a backoff.
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
from service.csvkit import CsvLimits, CsvResult, process_csv
from service.db import Job, JobStatus
from service.deps import Services
from service.errors import CsvbotError, InternalError, JobNotFoundError, RetryableError
from service.i18n.errors import exception_text
from service.i18n.users import speaking_to
from service.results.export import export_for_user, summary_extra
from service.results.send import send_results
from service.results.summary import result_text
from service.storage.keys import cleaned_key, profile_key
from service.workers.delivery import redeliver_if_stranded
from service.workers.progress import ProgressReporter
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
    ) -> None:
        self.services = services
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
                    await self.kick(job_id, carrier)
                    return None
                await asyncio.sleep(random.uniform(0, min(CLAIM_BACKOFF_CAP_SECONDS, 0.5 * 2**attempt)))
                continue
            if job is None and not await redeliver_if_stranded(
                self.services, self.bot, job_id, self.lease_seconds
            ):
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
        metrics.job_queue_wait.observe(max(0.0, (_now() - queued_at).total_seconds()))
        metrics.jobs_in_flight.inc()
        outcome, error_kind, result = "ok", None, None
        workdir = Path(tempfile.mkdtemp(prefix=f"csvbot-job-{job.id}-"))
        progress = ProgressReporter(self.bot, job.chat_id, job.progress_message_id, job.id)
        progress.reply_markup = cancel_markup(self.services.settings, job.id, job.user_id)
        lease = asyncio.get_running_loop().create_task(self._keep_lease(job.id), name=f"lease-{job.id}")
        try:
            result = await self._pipeline(job, workdir, progress)
        except JobCancelledError:
            outcome, error_kind = "rejected", "cancelled"
            await stop_cancelled(self.services, job)
            await progress.final(messages.cancelled(job.id))
        except Exception as exc:
            error = exc if isinstance(exc, CsvbotError) else InternalError(repr(exc))
            error_kind = error.kind
            outcome = await self._handle_failure(job, error, exc, progress)
            span.set_status(Status(StatusCode.ERROR, error_kind))
        finally:
            lease.cancel()
            await asyncio.gather(lease, return_exceptions=True)
            await progress.aclose()
            shutil.rmtree(workdir, ignore_errors=True)
            metrics.jobs_in_flight.dec()
            elapsed = time.perf_counter() - started
            # A retried attempt is a failed attempt as far as its duration goes; the job itself is
            # counted once, when it ends (``outcome`` "retry" is not a job outcome).
            attempt_outcome = "failed" if outcome == "retry" else outcome
            metrics.job_duration.labels(attempt_outcome).observe(elapsed, exemplar=exemplar())
            span.set_attribute("csvbot.outcome", outcome)
            if outcome != "retry":
                metrics.jobs.labels(outcome).inc()
                metrics.upload_to_result.labels(outcome).observe(
                    max(0.0, (_now() - job.created_at).total_seconds()), exemplar=exemplar()
                )
            # One canonical line per job attempt, with everything an operator asks first.
            log.info(
                "job finished" if outcome != "retry" else "job will be retried",
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

    async def _keep_lease(self, job_id: str) -> None:
        """Extend the job's lease while it runs, so a long job is not mistaken for a dead one."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.services.repo.update_progress(job_id, lease_seconds=self.lease_seconds)
            except CsvbotError as exc:  # the next renewal may succeed; the lease has slack
                log.warning(
                    "could not extend the job lease", extra={"job_id": job_id, "error_kind": exc.kind}
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
            # CPU-bound work on local files: a thread keeps the event loop free. It needs no
            # cancellation: it reads a bounded local file and always finishes.
            result = await asyncio.to_thread(process_csv, input_path, out_dir, self.limits, report)
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
        if (
            await services.repo.finish_job(job.id, cleaned_key=keys[0], profile_key=keys[1], summary=summary)
            is None
        ):
            await checkpoint(services, job.id)  # cancelled meanwhile: stop here
            raise InternalError(f"job {job.id} ended elsewhere while it ran")

        with _stage(metrics, "notify"):
            await progress.final(messages.done(job.id))
            columns = summary["column_profiles"]
            await send_results(services, self.bot, job, exported, result_text(job.id, summary, columns))
        await services.repo.mark_delivered(job.id)
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
                job.id, kind=error.kind, message=error.user_message, retryable=error.retryable
            )
        except CsvbotError:
            log.warning(
                "could not record the failure; the reaper will retry the job", extra={"job_id": job.id}
            )
            return "failed"
        if updated is not None and updated.status is JobStatus.QUEUED:
            metrics.jobs_requeued.labels("retry").inc()
            await progress.final(
                messages.retrying(job.id, updated.attempts, self.services.settings.job_max_attempts)
            )
            # Full-jitter backoff before the next attempt, so a storage brownout is not hammered.
            await asyncio.sleep(random.uniform(0, min(30.0, 2.0**updated.attempts)))
            await self.kick(job.id, job.trace_context or inject_context())
            return "retry"
        outcome = "rejected" if updated is not None and updated.status is JobStatus.REJECTED else "failed"
        await progress.final(messages.failed(job.id, exception_text(error, self.services.settings)))
        return outcome


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
