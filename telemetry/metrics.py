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
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from telemetry import labels as L
from telemetry import slo

__all__ = ["LevelCountSource", "LogRecordCounters", "Metrics"]


def _preinit(metric: MetricWrapperBase, *label_sets: Sequence[str]) -> None:
    """Create every child of ``metric`` so that each series exists from the first scrape."""
    for combination in itertools.product(*label_sets):
        metric.labels(*combination)


class LevelCountSource(Protocol):
    """What the log queue tells :class:`LogRecordCounters`: running totals, by ``LOG_LEVELS``."""

    def offered_by_level(self) -> list[int]: ...

    def dropped_by_level(self) -> list[int]: ...


class LogRecordCounters(Collector):
    """``csvbot_log_records_total`` and ``csvbot_log_records_dropped_total``, by level.

    Read at scrape time from the log queues attached to it, which count on the callers' side. A
    writer that pushed the counts after each batch would freeze them while it is blocked on a
    stalled stderr — exactly while records are being dropped and the drop alert must see it. A
    queue detached when logging stops leaves its totals behind, so the counters never go back
    when logging is set up again. Every level is always exposed, 0 until something is logged.
    """

    _RECORDS = (
        "csvbot_log_records",
        "Log records emitted at or above the log level, by level (dropped ones included).",
    )
    _DROPPED = (
        "csvbot_log_records_dropped",
        "Log records dropped because the bounded log queue was full, by level.",
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        self._lock = threading.Lock()
        self._sources: list[LevelCountSource] = []
        self._retired = ([0] * len(L.LOG_LEVELS), [0] * len(L.LOG_LEVELS))
        registry.register(self)

    def attach(self, source: LevelCountSource) -> None:
        with self._lock:
            if source not in self._sources:
                self._sources.append(source)

    def detach(self, source: LevelCountSource) -> None:
        """Stop reading ``source``; its totals so far stay in the counters."""
        with self._lock:
            if source in self._sources:
                self._sources.remove(source)
                self._retired = self._add(self._retired, source)

    def totals(self) -> tuple[list[int], list[int]]:
        """(records, dropped) by level, in ``LOG_LEVELS`` order."""
        with self._lock:
            totals = self._retired
            for source in self._sources:
                totals = self._add(totals, source)
        return totals

    @staticmethod
    def _add(totals: tuple[list[int], list[int]], source: LevelCountSource) -> tuple[list[int], list[int]]:
        offered, dropped = source.offered_by_level(), source.dropped_by_level()
        return (
            [a + b for a, b in zip(totals[0], offered, strict=True)],
            [a + b for a, b in zip(totals[1], dropped, strict=True)],
        )

    def collect(self) -> Iterator[CounterMetricFamily]:
        for (name, documentation), values in zip((self._RECORDS, self._DROPPED), self.totals(), strict=True):
            family = CounterMetricFamily(name, documentation, labels=["level"])
            for level, value in zip(L.LOG_LEVELS, values, strict=True):
                # No ``created``: it would export a *_created series, which csvbot turns off.
                family.add_metric([level], value)
            yield family

    def describe(self) -> Iterator[CounterMetricFamily]:
        for name, documentation in (self._RECORDS, self._DROPPED):
            yield CounterMetricFamily(name, documentation, labels=["level"])


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
        # Every counter and histogram would also export a `*_created` series (363 per process)
        # that no rule or panel reads; prometheus_client's switch is process-wide and idempotent.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
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
        # Records and drops are counted by the log queue as records are offered, and read at scrape
        # time (LogRecordCounters); the depth is read at scrape time too (set_function, bound by
        # setup_logging): none of them waits for the log writer, which may be the thing stuck.
        self.log_record_counts = LogRecordCounters(r)
        self.log_queue_depth = Gauge(
            "csvbot_log_queue_depth",
            "Log records waiting in the queue (read at scrape time).",
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

        # --- the job path: fencing, delivery, broker -----------------------------------------
        self.fenced_writes = Counter(
            "csvbot_job_writes_fenced",
            "Job writes refused because the worker's claim was no longer current, by write.",
            ["write"],
            registry=r,
        )
        _preinit(self.fenced_writes, L.FENCED_WRITES)
        self.deliveries = Counter(
            "csvbot_deliveries",
            "Delivery attempts of a done job's result, by how they ended.",
            ["outcome"],
            registry=r,
        )
        _preinit(self.deliveries, L.DELIVERY_OUTCOMES)
        self.documents_sent = Counter(
            "csvbot_result_documents_sent",
            "Result documents sent to users, first sends and resends by a deliverer that took over.",
            ["send"],
            registry=r,
        )
        _preinit(self.documents_sent, L.DOCUMENT_SENDS)
        self.broker_receive_errors = Counter(
            "csvbot_broker_receive_errors",
            "Failed reads from the task broker, by kind.",
            ["kind"],
            registry=r,
        )
        _preinit(self.broker_receive_errors, L.BROKER_RECEIVE_ERRORS)
        self.broker_consuming = Gauge(
            "csvbot_broker_consuming",
            "1 while this worker can read tasks from the broker, 0 while it cannot.",
            registry=r,
        )
        self.dependency_ready = Gauge(
            "csvbot_dependency_ready",
            "1 while this process's last readiness probe of the dependency passed, 0 while it fails.",
            ["check"],
            registry=r,
        )
        _preinit(self.dependency_ready, L.READINESS_CHECKS)
        # Set by the reaper each tick from the job rows (every process running one reports the
        # same shared rows: read them with max()); 0 where nothing waits.
        self.jobs_oldest_age = Gauge(
            "csvbot_jobs_oldest_age_seconds",
            "How long the oldest job in each unfinished status has been in it.",
            ["status"],
            registry=r,
        )
        _preinit(self.jobs_oldest_age, L.WAITING_STATUSES)
        self.results_undelivered = Gauge(
            "csvbot_results_undelivered",
            "Done jobs whose result has not reached the user yet (and was not given up on).",
            registry=r,
        )
        self.results_undelivered_oldest_age = Gauge(
            "csvbot_results_undelivered_oldest_age_seconds",
            "How long ago the oldest done job whose result has not reached its user finished.",
            registry=r,
        )
        # --- upload spool and quotas ---------------------------------------------------------
        self.spool_bytes = Gauge(
            "csvbot_spool_bytes",
            "Bytes of uploads kept in the local spool until they are stored, recorded and queued.",
            registry=r,
        )
        self.spool_entries = Gauge(
            "csvbot_spool_entries",
            "Uploads kept in the local spool.",
            registry=r,
        )
        self.spool_spooled = Counter(
            "csvbot_spool_spooled",
            "Uploads that had to wait in the spool for a dependency, by dependency.",
            ["dependency"],
            registry=r,
        )
        _preinit(self.spool_spooled, L.SPOOL_DEPENDENCIES)
        self.spool_replayed = Counter(
            "csvbot_spool_replayed",
            "Spooled uploads finished later (queued as jobs), by what they had waited for.",
            ["reason"],
            registry=r,
        )
        _preinit(self.spool_replayed, L.SPOOL_REPLAY_REASONS)
        self.spool_expired = Counter(
            "csvbot_spool_expired",
            "Spooled uploads given up after SPOOL_MAX_AGE_SECONDS, by the dependency still down.",
            ["dependency"],
            registry=r,
        )
        _preinit(self.spool_expired, L.SPOOL_DEPENDENCIES)
        self.spool_full = Counter(
            "csvbot_spool_full",
            "Uploads the spool had no room for (SPOOL_MAX_BYTES).",
            registry=r,
        )
        self.quota_refused = Counter(
            "csvbot_quota_refused",
            "Uploads refused by a per-user quota, by quota.",
            ["quota"],
            registry=r,
        )
        _preinit(self.quota_refused, L.QUOTAS)
        # --- CSV child processes (service/workers/csv_pool.py) ----------------------------
        self.csv_pool_size = Gauge(
            "csvbot_csv_pool_processes",
            "CSV child processes this process keeps (WORKER_CONCURRENCY; 0 on the thread path).",
            registry=r,
        )
        self.csv_pool_busy = Gauge(
            "csvbot_csv_pool_busy",
            "CSV child processes working on a job now.",
            registry=r,
        )
        self.csv_pool_restarts = Counter(
            "csvbot_csv_pool_restarts",
            "CSV child processes killed and replaced, by cause.",
            ["cause"],
            registry=r,
        )
        _preinit(self.csv_pool_restarts, L.CSV_POOL_RESTART_CAUSES)
        # --- the live configuration the alert texts quote -------------------------------------
        # Alert descriptions read these at notification time, so a changed setting changes the
        # text ("hit the 3s deadline", not the default). Start at the defaults of telemetry/slo.py;
        # publish_config() sets the running values.
        self.config_storage_timeout = Gauge(
            "csvbot_config_storage_timeout_seconds",
            "STORAGE_TIMEOUT_SECONDS: deadline of one storage operation, retries included.",
            registry=r,
        )
        self.config_storage_timeout.set(slo.STORAGE_TIMEOUT_SECONDS)
        self.config_storage_slow = Gauge(
            "csvbot_config_storage_slow_seconds",
            "STORAGE_SLOW_SECONDS: storage operations slower than this are counted as slow.",
            registry=r,
        )
        self.config_storage_slow.set(slo.STORAGE_SLOW_SECONDS)
        self.config_db_acquire_timeout = Gauge(
            "csvbot_config_db_acquire_timeout_seconds",
            "DB_ACQUIRE_TIMEOUT_SECONDS: how long a query waits for a database session.",
            registry=r,
        )
        self.config_db_acquire_timeout.set(slo.POOL_ACQUIRE_TIMEOUT_SECONDS)
        self.config_job_lease = Gauge(
            "csvbot_config_job_lease_seconds",
            "JOB_LEASE_SECONDS: a running job unfinished after this long is queued again.",
            registry=r,
        )
        self.config_job_lease.set(slo.JOB_LEASE_SECONDS)

        # --- connection budget and session-limit tuning -----------------------------------------
        self.db_session_budget = Gauge(
            "csvbot_db_session_budget",
            "Sessions the whole service may hold (SUPABASE_POOL_SIZE - SUPABASE_SESSION_RESERVE).",
            registry=r,
        )
        self.db_session_grant = Gauge(
            "csvbot_db_session_grant",
            "Sessions this process may hold now: its share of the budget, at most the limit.",
            registry=r,
        )
        self.db_budget_leases = Counter(
            "csvbot_db_budget_lease_renewals",
            "Renewals of this process's lease in the budget ledger, by outcome.",
            ["outcome"],
            registry=r,
        )
        _preinit(self.db_budget_leases, L.BUDGET_LEASE_OUTCOMES)
        self.alert_webhook_requests = Counter(
            "csvbot_alert_webhook_requests",
            "Requests to the Alertmanager webhook receiver, by outcome.",
            ["outcome"],
            registry=r,
        )
        _preinit(self.alert_webhook_requests, L.ALERT_WEBHOOK_OUTCOMES)
        self.alert_webhook_alerts = Counter(
            "csvbot_alert_webhook_alerts",
            "Alerts received by the webhook receiver, by what was done with them.",
            ["outcome"],
            registry=r,
        )
        _preinit(self.alert_webhook_alerts, L.ALERT_OUTCOMES)

    # --- helpers -----------------------------------------------------------------------------

    def publish_config(
        self,
        *,
        storage_timeout_seconds: float,
        storage_slow_seconds: float,
        db_acquire_timeout_seconds: float,
        job_lease_seconds: float,
    ) -> None:
        """Export the running deadlines and limits that the alert texts state."""
        self.config_storage_timeout.set(storage_timeout_seconds)
        self.config_storage_slow.set(storage_slow_seconds)
        self.config_db_acquire_timeout.set(db_acquire_timeout_seconds)
        self.config_job_lease.set(job_lease_seconds)

    def count_error(self, component: str, kind: str) -> None:
        """Count an error; an unknown kind is counted as ``internal`` (closed label set)."""
        if kind not in L.ERROR_KINDS:
            kind = "internal"
        self.errors.labels(component, kind).inc()


def sample_totals(metric: MetricWrapperBase, **labels: str) -> dict[str, float]:
    """Sample name → the sum of ``metric``'s samples whose labels include ``labels``.

    What the service reads of its own metrics while it runs (the adaptive controller, the budget
    keeper): ``registry.get_sample_value`` collects *every* metric of the registry — thousands of
    pre-initialised series — for each value, and a hundred such reads per tuning decision
    blocked the event loop for 0.3-0.6 s. This collects the one metric.
    """
    totals: dict[str, float] = {}
    for family in metric.collect():
        for sample in family.samples:
            if all(sample.labels.get(name) == value for name, value in labels.items()):
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


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
        "write": L.FENCED_WRITES,
        "send": L.DOCUMENT_SENDS,
        "service": L.SERVICES,
        "trigger": L.DELETION_REASONS,
        "item": L.RETENTION_ITEMS,
        "dependency": L.SPOOL_DEPENDENCIES,
        "quota": L.QUOTAS,
        "cause": L.CSV_POOL_RESTART_CAUSES,
        "check": L.READINESS_CHECKS,
    }


#: Metric family → its ``outcome`` values, where ``outcome`` is not the update/job set.
_OUTCOME_SETS: dict[str, tuple[str, ...]] = {
    "csvbot_storage_request_duration_seconds": L.STORAGE_OUTCOMES,
    "csvbot_db_budget_lease_renewals": L.BUDGET_LEASE_OUTCOMES,
    "csvbot_alert_webhook_requests": L.ALERT_WEBHOOK_OUTCOMES,
    "csvbot_alert_webhook_alerts": L.ALERT_OUTCOMES,
    "csvbot_deliveries": L.DELIVERY_OUTCOMES,
}
#: (metric family, label) → its values, where the label means something else than on the other
#: families: ``kind`` is not an error kind, ``status`` not a Telegram answer's status, ...
_FAMILY_SETS: dict[tuple[str, str], tuple[str, ...]] = {
    ("csvbot_broker_receive_errors", "kind"): L.BROKER_RECEIVE_ERRORS,
    ("csvbot_jobs_oldest_age_seconds", "status"): L.WAITING_STATUSES,
    ("csvbot_db_session_limit_changes", "direction"): L.LIMIT_CHANGE_DIRECTIONS,
    ("csvbot_spool_replayed", "reason"): L.SPOOL_REPLAY_REASONS,
}


def allowed_values_for(family: str, label: str) -> Iterable[str] | None:
    """The closed set a label of ``family`` may take, or ``None`` if it is free (``version``)."""
    if label == "version":
        return None
    if label == "outcome":
        return _OUTCOME_SETS.get(family, L.UPDATE_OUTCOMES)
    if (family, label) in _FAMILY_SETS:
        return _FAMILY_SETS[family, label]
    return declared_label_values().get(label, ())
