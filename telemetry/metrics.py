"""The metric catalogue: every csvbot metric's name, type, labels and buckets.

Build one :class:`Metrics` per process against a registry (tests pass a fresh
``CollectorRegistry()`` and read values with ``registry.get_sample_value``). Nothing is registered
at import time. Every labelled metric is pre-initialised with every combination of its closed label
sets (``telemetry/labels.py``) so that ``rate()`` and alerts see zeros, not absent series.

Names follow Prometheus conventions: the ``csvbot_`` prefix, base units (seconds, bytes), ``_total``
on counters (``prometheus_client`` adds it to the exposed name; the attribute names below omit it).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.metrics import MetricWrapperBase

from telemetry import labels as L
from telemetry import slo

__all__ = ["Metrics"]


def _preinit(metric: MetricWrapperBase, *label_sets: Sequence[str]) -> None:
    """Create every child of ``metric`` so that each series exists from the first scrape."""
    for combination in itertools.product(*label_sets):
        metric.labels(*combination)


class Metrics:
    """All csvbot metrics, registered on ``registry``.

    ``service`` is ``"bot"`` or ``"worker"``; it only feeds ``csvbot_build_info``: the instance and
    job labels of the scrape tell processes apart.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        service: str = "bot",
        version: str = "0.0.0",
        process_metrics: bool = True,
    ) -> None:
        if service not in L.SERVICES:
            raise ValueError(f"service must be one of {L.SERVICES}, not {service!r}")
        self.registry = registry
        r = registry
        if process_metrics:
            # CPU, memory, open FDs (process_*) and the Python version (python_info).
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)

        self.build_info = Gauge(
            "csvbot_build_info",
            "Always 1; labels carry the running version and service.",
            ["version", "service"],
            registry=r,
        )
        self.build_info.labels(version, service).set(1)

        # --- errors, by where and what ----------------------------------------------------
        self.errors = Counter(
            "csvbot_errors",
            "Errors by component and stable error kind (service/errors.py).",
            ["component", "kind"],
            registry=r,
        )
        _preinit(self.errors, L.COMPONENTS, L.ERROR_KINDS)

        # --- logging (the logging path reports on itself) ---------------------------------
        self.log_records = Counter(
            "csvbot_log_records",
            "Log records emitted at or above the log level, by level (dropped ones included).",
            ["level"],
            registry=r,
        )
        self.log_records_dropped = Counter(
            "csvbot_log_records_dropped",
            "Log records dropped because the bounded log queue was full, by level.",
            ["level"],
            registry=r,
        )
        _preinit(self.log_records, L.LOG_LEVELS)
        _preinit(self.log_records_dropped, L.LOG_LEVELS)
        self.log_queue_depth = Gauge(
            "csvbot_log_queue_depth",
            "Log records waiting in the queue.",
            registry=r,
        )
        self.log_queue_capacity = Gauge(
            "csvbot_log_queue_capacity",
            "Size of the bounded log queue (LOG_QUEUE_SIZE).",
            registry=r,
        )
        self.log_write_duration = Histogram(
            "csvbot_log_write_duration_seconds",
            "Time to format and write one batch of log records to the sinks.",
            buckets=slo.LOG_WRITE_BUCKETS,
            registry=r,
        )

        # --- event loop ---------------------------------------------------------------------
        self.event_loop_lag = Histogram(
            "csvbot_event_loop_lag_seconds",
            "How late the event loop woke a periodic task.",
            buckets=slo.LOOP_LAG_BUCKETS,
            registry=r,
        )
        self.event_loop_lag_max = Gauge(
            "csvbot_event_loop_lag_max_seconds",
            "Largest event-loop lag seen in the last monitoring window.",
            registry=r,
        )

        # --- storage ------------------------------------------------------------------------
        self.storage_request_duration = Histogram(
            "csvbot_storage_request_duration_seconds",
            "Duration of one storage operation, retries included, by operation and outcome.",
            ["operation", "outcome"],
            buckets=slo.STORAGE_BUCKETS,
            registry=r,
        )
        _preinit(self.storage_request_duration, L.STORAGE_OPERATIONS, L.STORAGE_OUTCOMES)
        self.storage_retries = Counter(
            "csvbot_storage_retries",
            "Storage attempts repeated after a retryable failure.",
            ["operation"],
            registry=r,
        )
        self.storage_timeouts = Counter(
            "csvbot_storage_timeouts",
            "Storage operations that hit their deadline.",
            ["operation"],
            registry=r,
        )
        self.storage_slow = Counter(
            "csvbot_storage_slow_requests",
            "Storage operations slower than STORAGE_SLOW_SECONDS (that still finished).",
            ["operation"],
            registry=r,
        )
        for m in (self.storage_retries, self.storage_timeouts, self.storage_slow):
            _preinit(m, L.STORAGE_OPERATIONS)
        self.storage_bytes = Counter(
            "csvbot_storage_transferred_bytes",
            "Bytes moved to or from storage.",
            ["direction"],
            registry=r,
        )
        _preinit(self.storage_bytes, L.TRANSFER_DIRECTIONS)

        # --- database -----------------------------------------------------------------------
        self.db_session_limit = Gauge(
            "csvbot_db_session_limit",
            "The live database session limit (SUPABASE_SESSION_LIMIT, changeable at run time).",
            registry=r,
        )
        self.db_session_limit_ceiling = Gauge(
            "csvbot_db_session_limit_ceiling",
            "The highest session limit run-time tuning may set.",
            registry=r,
        )
        self.db_session_limit_changes = Counter(
            "csvbot_db_session_limit_changes",
            "Run-time changes of the session limit.",
            ["source", "direction"],
            registry=r,
        )
        _preinit(self.db_session_limit_changes, L.LIMIT_CHANGE_SOURCES, L.LIMIT_CHANGE_DIRECTIONS)
        self.db_pool_in_use = Gauge(
            "csvbot_db_pool_in_use",
            "Database sessions currently lent out.",
            registry=r,
        )
        self.db_pool_waiting = Gauge(
            "csvbot_db_pool_waiting",
            "Callers waiting for a database session.",
            registry=r,
        )
        self.db_pool_wait = Histogram(
            "csvbot_db_pool_wait_seconds",
            "Time spent waiting for a database session.",
            buckets=slo.DB_BUCKETS,
            registry=r,
        )
        self.db_pool_acquire_timeouts = Counter(
            "csvbot_db_pool_acquire_timeouts",
            "Callers that gave up waiting for a database session.",
            registry=r,
        )
        self.db_query_duration = Histogram(
            "csvbot_db_query_duration_seconds",
            "Duration of one named query, by query name.",
            ["query"],
            buckets=slo.DB_BUCKETS,
            registry=r,
        )
        _preinit(self.db_query_duration, L.DB_QUERIES)

        # --- bot ----------------------------------------------------------------------------
        self.updates = Counter(
            "csvbot_updates",
            "Telegram updates handled, by handler and outcome.",
            ["handler", "outcome"],
            registry=r,
        )
        self.update_duration = Histogram(
            "csvbot_update_duration_seconds",
            "Time to handle one update, by handler and outcome.",
            ["handler", "outcome"],
            buckets=slo.UPDATE_BUCKETS,
            registry=r,
        )
        _preinit(self.updates, L.HANDLERS, L.UPDATE_OUTCOMES)
        _preinit(self.update_duration, L.HANDLERS, L.UPDATE_OUTCOMES)
        self.flood_limited = Counter(
            "csvbot_flood_limited",
            "Updates refused by the per-user flood limit.",
            registry=r,
        )
        self.active_users = Gauge(
            "csvbot_active_users",
            "Distinct users seen in the last 15 minutes.",
            registry=r,
        )
        self.telegram_requests = Counter(
            "csvbot_telegram_requests",
            "Bot API calls, by method and status.",
            ["method", "status"],
            registry=r,
        )
        _preinit(self.telegram_requests, L.TELEGRAM_METHODS, L.TELEGRAM_STATUSES)
        self.telegram_request_duration = Histogram(
            "csvbot_telegram_request_duration_seconds",
            "Duration of one Bot API call, by method.",
            ["method"],
            buckets=slo.TELEGRAM_BUCKETS,
            registry=r,
        )
        _preinit(self.telegram_request_duration, L.TELEGRAM_METHODS)

        # --- jobs and workers ---------------------------------------------------------------
        self.jobs = Counter(
            "csvbot_jobs",
            "Finished jobs, by outcome.",
            ["outcome"],
            registry=r,
        )
        _preinit(self.jobs, L.JOB_OUTCOMES)
        self.job_duration = Histogram(
            "csvbot_job_duration_seconds",
            "Time a worker spent on one job, by outcome.",
            ["outcome"],
            buckets=slo.JOB_BUCKETS,
            registry=r,
        )
        _preinit(self.job_duration, L.JOB_OUTCOMES)
        self.job_stage_duration = Histogram(
            "csvbot_job_stage_duration_seconds",
            "Time of one stage of a job.",
            ["stage"],
            buckets=slo.JOB_BUCKETS,
            registry=r,
        )
        _preinit(self.job_stage_duration, L.JOB_STAGES)
        self.job_queue_wait = Histogram(
            "csvbot_job_queue_wait_seconds",
            "Time from enqueue to a worker starting the job.",
            buckets=slo.JOB_BUCKETS,
            registry=r,
        )
        self.upload_to_result = Histogram(
            "csvbot_upload_to_result_seconds",
            "Time from receiving a user's upload to delivering its result, by outcome.",
            ["outcome"],
            buckets=slo.JOB_BUCKETS,
            registry=r,
        )
        _preinit(self.upload_to_result, L.JOB_OUTCOMES)
        self.jobs_in_flight = Gauge(
            "csvbot_jobs_in_flight",
            "Jobs this process is working on now.",
            registry=r,
        )
        self.job_queue_depth = Gauge(
            "csvbot_job_queue_depth",
            "Jobs queued and not yet started.",
            registry=r,
        )
        self.jobs_requeued = Counter(
            "csvbot_jobs_requeued",
            "Jobs queued again, by reason.",
            ["reason"],
            registry=r,
        )
        _preinit(self.jobs_requeued, L.REQUEUE_REASONS)
        self.worker_heartbeat = Gauge(
            "csvbot_worker_heartbeat_timestamp_seconds",
            "Unix time of this worker's last heartbeat.",
            registry=r,
        )
        self.csv_input_size = Histogram(
            "csvbot_csv_input_size_bytes",
            "Size of uploaded CSV files.",
            buckets=slo.FILE_SIZE_BUCKETS,
            registry=r,
        )
        self.csv_rows = Counter(
            "csvbot_csv_rows",
            "Data rows read from uploaded CSV files.",
            registry=r,
        )

        # --- users' control over their jobs and data ---------------------------------------
        self.jobs_cancelled = Counter(
            "csvbot_jobs_cancelled",
            "Jobs their users cancelled.",
            registry=r,
        )
        self.stored_objects_deleted = Counter(
            "csvbot_stored_objects_deleted",
            "Stored files (inputs and results) deleted, by what triggered it.",
            ["trigger"],
            registry=r,
        )
        _preinit(self.stored_objects_deleted, L.DELETION_REASONS)
        self.retention_swept = Counter(
            "csvbot_retention_swept",
            "What the retention sweep deleted: job rows and stored objects.",
            ["item"],
            registry=r,
        )
        _preinit(self.retention_swept, L.RETENTION_ITEMS)
        self.callbacks_rejected = Counter(
            "csvbot_callbacks_rejected",
            "Inline-button presses refused: a bad or foreign signature, or a job not the presser's.",
            registry=r,
        )

    # --- helpers -----------------------------------------------------------------------------

    def count_error(self, component: str, kind: str) -> None:
        """Count an error; an unknown kind is counted as ``internal`` (closed label set)."""
        if kind not in L.ERROR_KINDS:
            kind = "internal"
        self.errors.labels(component, kind).inc()


def declared_label_values() -> dict[str, tuple[str, ...]]:
    """Label name → allowed values, for the registry walk in the tests.

    ``outcome`` and ``status`` mean different sets on different metrics, so the walk checks those
    against :func:`allowed_values_for`.
    """
    return {
        "component": L.COMPONENTS,
        "kind": L.ERROR_KINDS,
        "level": L.LOG_LEVELS,
        "operation": L.STORAGE_OPERATIONS,
        "direction": L.TRANSFER_DIRECTIONS,
        "query": L.DB_QUERIES,
        "source": L.LIMIT_CHANGE_SOURCES,
        "handler": L.HANDLERS,
        "method": L.TELEGRAM_METHODS,
        "status": L.TELEGRAM_STATUSES,
        "stage": L.JOB_STAGES,
        "reason": L.REQUEUE_REASONS,
        "service": L.SERVICES,
        "trigger": L.DELETION_REASONS,
        "item": L.RETENTION_ITEMS,
    }


#: Metric family → its ``outcome`` values, where ``outcome`` is not the update/job set.
_OUTCOME_SETS: dict[str, tuple[str, ...]] = {
    "csvbot_storage_request_duration_seconds": L.STORAGE_OUTCOMES,
}


def allowed_values_for(family: str, label: str) -> Iterable[str] | None:
    """The closed set a label of ``family`` may take, or ``None`` if it is free (``version``)."""
    if label == "version":
        return None
    if label == "outcome":
        return _OUTCOME_SETS.get(family, L.UPDATE_OUTCOMES)
    if label == "direction" and family == "csvbot_db_session_limit_changes":
        return L.LIMIT_CHANGE_DIRECTIONS
    return declared_label_values().get(label, ())
