"""Names of the recording rules, of the scrape jobs, and of the runbook anchors.

Dashboards, alert expressions and the live test refer to recorded series by these constants, so
a rename happens in one place. The names follow the ``level:metric:operations`` convention;
windows in a name are the production windows (the fast test copy keeps the names).
"""

from __future__ import annotations

#: ``job`` labels of the two scrape targets (deploy/prometheus/prometheus.yml uses the same).
BOT_JOB = "csvbot-bot"
WORKER_JOB = "csvbot-worker"
SCRAPE_JOBS: tuple[str, ...] = (BOT_JOB, WORKER_JOB)

# --- user-facing success -------------------------------------------------------------------
#: Updates plus jobs whose outcome is not ``failed``, over all of them (0–1).
SUCCESS_RATIO = "csvbot:user_actions:success_ratio_rate5m"
#: Updates plus jobs per second: the traffic behind SUCCESS_RATIO (minimum-traffic guard).
USER_ACTIONS_RATE = "csvbot:user_actions:rate5m"
UPDATES_SUCCESS_RATIO = "csvbot:updates:success_ratio_rate5m"
JOBS_SUCCESS_RATIO = "csvbot:jobs:success_ratio_rate5m"

# --- latency percentiles (label ``quantile``) ---------------------------------------------
COMMAND_LATENCY = "csvbot:command_duration_seconds:quantile_rate5m"
UPLOAD_LATENCY = "csvbot:upload_duration_seconds:quantile_rate5m"
UPLOAD_TO_RESULT_LATENCY = "csvbot:upload_to_result_seconds:quantile_rate5m"
#: By ``operation``.
STORAGE_LATENCY = "csvbot:storage_request_duration_seconds:quantile_rate5m"
#: By ``job`` and ``instance``: each process has its own pool and its own loop.
POOL_WAIT_LATENCY = "csvbot:db_pool_wait_seconds:quantile_rate5m"
LOOP_LAG_LATENCY = "csvbot:event_loop_lag_seconds:quantile_rate5m"

# --- saturation and ratios ------------------------------------------------------------------
#: Sessions lent out over the session limit, by ``job`` and ``instance`` (0–1).
POOL_UTILISATION = "csvbot:db_pool:utilisation"
#: Storage operations that ended in ``storage_timeout``, over all storage operations (0–1).
STORAGE_TIMEOUT_RATIO = "csvbot:storage_timeouts:ratio_rate10m"
#: Storage operations per second: the traffic behind STORAGE_TIMEOUT_RATIO.
STORAGE_REQUESTS_RATE = "csvbot:storage_requests:rate10m"
#: Dropped DEBUG/INFO records over offered ones, by ``job`` and ``instance`` (0–1).
LOG_DROP_RATIO = "csvbot:log_records_dropped:ratio_rate10m"
#: The job queue's depth; every process reports the same shared queue, so the max of them.
QUEUE_DEPTH = "csvbot:job_queue_depth:max"


# --- SLO burn rates (label ``slo``) -----------------------------------------------------------
def slo_error_ratio(window: str) -> str:
    """Share of an SLO's events that were bad (too slow or failed) over ``window`` (0–1)."""
    return f"csvbot:slo_errors:ratio_rate{window}"


def slo_event_rate(window: str) -> str:
    """An SLO's events per second over ``window``: the minimum-traffic guard's input."""
    return f"csvbot:slo_events:rate{window}"
