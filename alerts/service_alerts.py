"""Alerts on what users feel: success rate, storage, the database pool, the job queue, workers.

Every number comes from ``telemetry/slo.py``; the annotations state it in Prometheus' own
humanized form so that the threshold and the live value read alike.
"""

from __future__ import annotations

from alerts.model import AlertRule
from alerts.timing import Timing
from promlib import names
from promlib.humanize import humanize_duration, humanize_percentage, live_value
from promlib.promql import quantile_label
from telemetry import slo

#: Live session limit and its ceiling, read at notification time (one process's view is enough:
#: bot and worker are configured alike).
SESSION_LIMIT_NOW = '{{ range query "max(csvbot_db_session_limit)" }}{{ .Value }}{{ end }}'
SESSION_LIMIT_CEILING = '{{ range query "max(csvbot_db_session_limit_ceiling)" }}{{ .Value }}{{ end }}'
RAISE_LIMIT = (
    f"raise SUPABASE_SESSION_LIMIT by one (now {SESSION_LIMIT_NOW}, "
    f"ceiling SUPABASE_SESSION_LIMIT_MAX={SESSION_LIMIT_CEILING})"
)


#: The running deadlines, as the service exports them (telemetry/metrics.py, "live configuration").
#: last_over_time: a scrape that just failed marks every series stale, and the text must still
#: say what the process runs with.
def _setting(metric: str) -> str:
    return f"max(last_over_time({metric}[1h]))"


STORAGE_DEADLINE_QUERY = _setting("csvbot_config_storage_timeout_seconds")
STORAGE_DEADLINE_NOW = live_value(STORAGE_DEADLINE_QUERY, humanize_duration(slo.STORAGE_TIMEOUT_SECONDS))
ACQUIRE_DEADLINE_NOW = live_value(
    _setting("csvbot_config_db_acquire_timeout_seconds"), humanize_duration(slo.POOL_ACQUIRE_TIMEOUT_SECONDS)
)
JOB_LEASE_NOW = live_value(
    _setting("csvbot_config_job_lease_seconds"), humanize_duration(slo.JOB_LEASE_SECONDS)
)

#: Storage timeouts page after 5 minutes above the ratio: the ratio's own 10-minute window already
#: smooths single bursts, and 5 more minutes at the forecast ~100 req/min is ~25 failed actions.
STORAGE_TIMEOUTS_FOR = "5m"
#: Slow storage only warns, after 10 minutes: slow is not failing yet.
STORAGE_SLOW_FOR = "10m"
#: Pool waits above the p95 limit for 5 minutes: long enough to skip a deploy's warm-up.
POOL_WAIT_FOR = "5m"
ACQUIRE_TIMEOUT_WINDOW = "5m"
#: The queue's trend is taken over this window and must stay upward for slo.QUEUE_BACKLOG_FOR.
QUEUE_TREND_WINDOW = "10m"


def _min_traffic(rate_series: str) -> str:
    return f"{rate_series} >= {slo.BURN_RATE_MIN_EVENTS_PER_SECOND:g}"


def success_rate_low(timing: Timing) -> AlertRule:
    floor = humanize_percentage(slo.SUCCESS_RATE_MIN)
    return AlertRule(
        alert="CsvbotSuccessRateLow",
        expr=(
            f"{names.SUCCESS_RATIO} < {slo.SUCCESS_RATE_MIN:g}\n"
            f"and on ()\n{_min_traffic(names.USER_ACTIONS_RATE)}"
        ),
        hold=timing.hold(slo.SUCCESS_RATE_FOR),
        severity="critical",
        summary=f"Fewer than {floor} of csvbot user actions succeed.",
        description=(
            "{{ $value | humanizePercentage }} of updates and jobs succeeded over the last 5m, "
            f"below the {floor} floor for {slo.SUCCESS_RATE_FOR}. If database pool waits are "
            f"high, {RAISE_LIMIT}; if storage timeouts are high, fix storage first."
        ),
    )


def storage_timeouts_high(timing: Timing) -> AlertRule:
    limit = humanize_percentage(slo.STORAGE_TIMEOUT_RATIO_MAX)
    deadline = STORAGE_DEADLINE_NOW
    return AlertRule(
        alert="CsvbotStorageTimeoutsHigh",
        expr=(
            f"{names.STORAGE_TIMEOUT_RATIO} > {slo.STORAGE_TIMEOUT_RATIO_MAX:g}\n"
            f"and on ()\n{_min_traffic(names.STORAGE_REQUESTS_RATE)}"
        ),
        hold=timing.hold(STORAGE_TIMEOUTS_FOR),
        severity="critical",
        summary=f"More than {limit} of storage operations time out.",
        description=(
            "{{ $value | humanizePercentage }} of storage operations hit the "
            f"{deadline} deadline over the last 10m (limit {limit}). Check Supabase Storage "
            "status and the Storage dashboard's retries and latency by operation."
        ),
    )


def storage_slow(timing: Timing) -> AlertRule:
    slow = humanize_duration(slo.STORAGE_SLOW_SECONDS)
    return AlertRule(
        alert="CsvbotStorageSlow",
        expr=f'{names.STORAGE_LATENCY}{{quantile="{quantile_label(0.95)}"}} > {slo.STORAGE_SLOW_SECONDS:g}',
        hold=timing.hold(STORAGE_SLOW_FOR),
        severity="warning",
        summary=f"Storage operations are slower than {slow} at p95.",
        description=(
            "p95 of storage {{ $labels.operation }} is {{ $value | humanizeDuration }}, "
            f"above the {slow} slow threshold for {STORAGE_SLOW_FOR}."
        ),
    )


def pool_wait_high(timing: Timing) -> AlertRule:
    limit = humanize_duration(slo.POOL_WAIT_P95_MAX_SECONDS)
    return AlertRule(
        alert="CsvbotDbPoolWaitHigh",
        expr=(
            f'{names.POOL_WAIT_LATENCY}{{quantile="{quantile_label(0.95)}"}} '
            f"> {slo.POOL_WAIT_P95_MAX_SECONDS:g}"
        ),
        hold=timing.hold(POOL_WAIT_FOR),
        severity="warning",
        summary=f"Waits for a database session exceed {limit} at p95.",
        description=(
            "p95 wait for a database session on {{ $labels.instance }} is "
            "{{ $value | humanizeDuration }} "
            f"(limit {limit}). The pool is saturated: {RAISE_LIMIT}."
        ),
    )


def pool_acquire_timeouts(timing: Timing) -> AlertRule:
    deadline = ACQUIRE_DEADLINE_NOW
    window = timing.window(ACQUIRE_TIMEOUT_WINDOW)
    return AlertRule(
        alert="CsvbotDbPoolAcquireTimeouts",
        expr=(f"sum by (job, instance) (increase(csvbot_db_pool_acquire_timeouts_total[{window}])) > 0"),
        severity="warning",
        summary="Callers gave up waiting for a database session.",
        description=(
            "{{ $value | humanize }} callers on {{ $labels.instance }} waited "
            f"{deadline} for a database session and failed in the last {ACQUIRE_TIMEOUT_WINDOW}. "
            f"{RAISE_LIMIT[0].upper()}{RAISE_LIMIT[1:]}."
        ),
    )


def queue_backlog_growing(timing: Timing) -> AlertRule:
    window = timing.window(QUEUE_TREND_WINDOW)
    return AlertRule(
        alert="CsvbotJobQueueBacklogGrowing",
        expr=f"{names.QUEUE_DEPTH} > 0\nand\nderiv({names.QUEUE_DEPTH}[{window}]) > 0",
        hold=timing.hold(slo.QUEUE_BACKLOG_FOR),
        severity="warning",
        summary="The job queue keeps growing: workers do not keep up.",
        description=(
            "{{ $value | humanize }} jobs are queued and the backlog has grown for "
            f"{slo.QUEUE_BACKLOG_FOR}. Check that workers are up and not failing, then raise "
            "WORKER_CONCURRENCY or add worker replicas."
        ),
    )


def worker_heartbeat_stale(timing: Timing) -> AlertRule:
    stale = humanize_duration(slo.WORKER_HEARTBEAT_STALE_SECONDS)
    # A process that never ran a worker exports 0: it has no heartbeat to go stale.
    heartbeat = "csvbot_worker_heartbeat_timestamp_seconds"
    return AlertRule(
        alert="CsvbotWorkerHeartbeatStale",
        expr=(f"time() - {heartbeat} > {slo.WORKER_HEARTBEAT_STALE_SECONDS:g}\nand\n{heartbeat} > 0"),
        severity="critical",
        summary=f"A worker has not beaten its heart for over {stale}.",
        description=(
            "The worker on {{ $labels.instance }} last beat {{ $value | humanizeDuration }} ago "
            f"(it beats every {humanize_duration(slo.WORKER_HEARTBEAT_INTERVAL_SECONDS)}). Its "
            f"jobs stall until their {JOB_LEASE_NOW} lease (JOB_LEASE_SECONDS) expires and the "
            "reaper queues them again."
        ),
    )


#: The job path's waiting gauges (telemetry/metrics.py): every process running a reaper reports
#: the same shared rows, so the rules read them with max().
JOBS_OLDEST_AGE = "csvbot_jobs_oldest_age_seconds"
RESULTS_UNDELIVERED = "csvbot_results_undelivered"
RESULTS_UNDELIVERED_OLDEST_AGE = "csvbot_results_undelivered_oldest_age_seconds"
BROKER_ERRORS_WINDOW = "5m"


def jobs_stuck(timing: Timing) -> AlertRule:
    limit = humanize_duration(slo.JOB_STUCK_SECONDS)
    return AlertRule(
        alert="CsvbotJobsStuck",
        expr=f"max by (status) ({JOBS_OLDEST_AGE}) > {slo.JOB_STUCK_SECONDS:g}",
        hold=timing.hold(slo.JOB_STUCK_FOR),
        severity="critical",
        summary=f"A job has waited in one status for over {limit}: its user has no result.",
        description=(
            "The oldest {{ $labels.status }} job has been {{ $labels.status }} for "
            "{{ $value | humanizeDuration }} (limit "
            f"{limit}), longer than any outage the job path rides out. Find the oldest such jobs "
            "in the jobs table (status {{ $labels.status }}, by created_at) and look their ids up "
            "in the logs (job_id); the runbook says what moves each status on."
        ),
    )


def results_undelivered(timing: Timing) -> AlertRule:
    limit = humanize_duration(slo.RESULT_UNDELIVERED_SECONDS)
    count = live_value(f"max({RESULTS_UNDELIVERED})", "Some", func="humanize")
    return AlertRule(
        alert="CsvbotResultsUndelivered",
        expr=f"max({RESULTS_UNDELIVERED_OLDEST_AGE}) > {slo.RESULT_UNDELIVERED_SECONDS:g}",
        hold=timing.hold(slo.RESULT_UNDELIVERED_FOR),
        severity="warning",
        summary=f"Finished results have not reached their users for over {limit}.",
        description=(
            f"{count} done jobs have results their users have not received; the oldest finished "
            "{{ $value | humanizeDuration }} ago. Delivery keeps failing: check the Telegram "
            "alerts and dashboard, then the workers' event=delivery_retry log lines. Users are "
            f"told to ask with /job after {slo.DELIVERY_MAX_ATTEMPTS} attempts."
        ),
    )


def broker_receive_failing(timing: Timing) -> AlertRule:
    window = timing.window(BROKER_ERRORS_WINDOW)
    per_minute = slo.BROKER_RECEIVE_ERRORS_PER_SECOND_MAX * 60
    return AlertRule(
        alert="CsvbotBrokerReceiveFailing",
        expr=(
            f"sum by (instance) (rate(csvbot_broker_receive_errors_total[{window}]))\n"
            f"> {slo.BROKER_RECEIVE_ERRORS_PER_SECOND_MAX:g}"
        ),
        hold=timing.hold(slo.BROKER_RECEIVE_ERRORS_FOR),
        severity="critical",
        summary="A worker cannot read tasks from the broker (Redis).",
        description=(
            "The worker on {{ $labels.instance }} fails reads from the broker at "
            "{{ $value | humanize }}/s over the last "
            f"{BROKER_ERRORS_WINDOW} (limit {per_minute:g} a minute): it takes no "
            "new jobs. Check Redis (up? reachable? restarted without its data: kind=no_group), then "
            "the worker's event=broker_receive_failed log lines. Uploads wait queued; none are lost."
        ),
    )


def dependency_unreachable(timing: Timing) -> AlertRule:
    interval = humanize_duration(slo.READINESS_CHECK_INTERVAL_SECONDS)
    return AlertRule(
        alert="CsvbotDependencyUnreachable",
        expr="min by (instance, check) (csvbot_dependency_ready) == 0",
        hold=timing.hold(slo.DEPENDENCY_UNREACHABLE_FOR),
        severity="critical",
        summary="A csvbot process cannot reach its database, storage or broker.",
        description=(
            "Every readiness probe of the {{ $labels.check }} from {{ $labels.instance }} (one "
            f"every {interval}) has failed for {slo.DEPENDENCY_UNREACHABLE_FOR} (ready = "
            "{{ $value }}); /readyz answers 503. Uploads wait in the spool and jobs ride the "
            "outage out for up to "
            f"{humanize_duration(slo.JOB_OUTAGE_RIDE_OUT_SECONDS)}; after that users are asked to "
            "send their files again. The process's event=readiness_changed log line has the error."
        ),
    )


def service_alerts(timing: Timing) -> list[AlertRule]:
    return [
        success_rate_low(timing),
        storage_timeouts_high(timing),
        storage_slow(timing),
        pool_wait_high(timing),
        pool_acquire_timeouts(timing),
        queue_backlog_growing(timing),
        worker_heartbeat_stale(timing),
        jobs_stuck(timing),
        results_undelivered(timing),
        broker_receive_failing(timing),
        dependency_unreachable(timing),
    ]
