"""Cases for the user-facing alerts: success rate, storage, database pool, queue, heartbeat."""

from __future__ import annotations

from alerts.cases.histograms import bucket_around, observed_in, quantile_in
from alerts.cases.model import BOT, WORKER, Case, counter, expect, gauge, rule_named, series
from telemetry import slo

#: The live limit and ceiling the success-rate and pool annotations read back.
LIMIT_QUERIES = {
    "max(csvbot_db_session_limit)": float(slo.SESSION_LIMIT_DEFAULT),
    "max(csvbot_db_session_limit_ceiling)": float(slo.SESSION_LIMIT_CEILING_DEFAULT),
}
#: Below the minimum-traffic guard (slo.BURN_RATE_MIN_EVENTS_PER_SECOND, 0.6/min): one event
#: every 5 minutes.
NIGHT_EVENTS_PER_MINUTE = 0.2


def _limits(minutes: int) -> list[dict[str, str]]:
    return [
        series("csvbot_db_session_limit", BOT, gauge(LIMIT_QUERIES["max(csvbot_db_session_limit)"], minutes)),
        series(
            "csvbot_db_session_limit_ceiling",
            BOT,
            gauge(LIMIT_QUERIES["max(csvbot_db_session_limit_ceiling)"], minutes),
        ),
    ]


def _user_actions(ok_per_minute: float, failed_per_minute: float, minutes: int) -> list[dict[str, str]]:
    """Updates from the bot and jobs from the worker, each split into ok and failed."""
    return [
        series(
            "csvbot_updates_total",
            {**BOT, "handler": "upload", "outcome": "ok"},
            counter(ok_per_minute, minutes),
        ),
        series(
            "csvbot_updates_total",
            {**BOT, "handler": "upload", "outcome": "failed"},
            counter(failed_per_minute, minutes),
        ),
        series("csvbot_jobs_total", {**WORKER, "outcome": "ok"}, counter(ok_per_minute, minutes)),
        series("csvbot_jobs_total", {**WORKER, "outcome": "failed"}, counter(failed_per_minute, minutes)),
    ]


def success_rate_cases() -> list[Case]:
    rule = rule_named("CsvbotSuccessRateLow")
    low = round(slo.SUCCESS_RATE_MIN - 0.05, 2)
    high = round(slo.SUCCESS_RATE_MIN + 0.05, 2)
    minutes = 20
    return [
        Case(
            alertname=rule.alert,
            when=(
                f"success stays at {low:.0%} (< {slo.SUCCESS_RATE_MIN:.0%}) "
                f"for longer than {slo.SUCCESS_RATE_FOR}"
            ),
            input_series=[*_user_actions(low * 100, (1 - low) * 100, minutes), *_limits(minutes)],
            eval_time="20m",
            expected=[expect(rule, low, {}, LIMIT_QUERIES)],
        ),
        Case(
            alertname=rule.alert,
            when=f"success stays at {high:.0%}",
            input_series=[*_user_actions(high * 100, (1 - high) * 100, minutes), *_limits(minutes)],
            eval_time="20m",
        ),
        Case(
            alertname=rule.alert,
            when="half of a night's handful of actions fail (minimum-traffic guard)",
            input_series=[
                *_user_actions(NIGHT_EVENTS_PER_MINUTE / 2, NIGHT_EVENTS_PER_MINUTE / 2, minutes),
                *_limits(minutes),
            ],
            eval_time="20m",
        ),
    ]


def _storage_calls(ok_per_minute: float, timeouts_per_minute: float, minutes: int) -> list[dict[str, str]]:
    count = "csvbot_storage_request_duration_seconds_count"
    return [
        series(count, {**WORKER, "operation": "download", "outcome": "ok"}, counter(ok_per_minute, minutes)),
        series(
            count,
            {**WORKER, "operation": "download", "outcome": "storage_timeout"},
            counter(timeouts_per_minute, minutes),
        ),
    ]


def storage_timeout_cases() -> list[Case]:
    rule = rule_named("CsvbotStorageTimeoutsHigh")
    high = round(slo.STORAGE_TIMEOUT_RATIO_MAX * 2, 4)
    low = round(slo.STORAGE_TIMEOUT_RATIO_MAX / 2.5, 4)
    minutes = 25
    return [
        Case(
            alertname=rule.alert,
            when=f"{high:.0%} of storage calls time out (limit {slo.STORAGE_TIMEOUT_RATIO_MAX:.0%})",
            input_series=_storage_calls((1 - high) * 100, high * 100, minutes),
            eval_time="25m",
            expected=[expect(rule, high, {})],
        ),
        Case(
            alertname=rule.alert,
            when=f"{low:.0%} of storage calls time out",
            input_series=_storage_calls((1 - low) * 100, low * 100, minutes),
            eval_time="25m",
        ),
        Case(
            alertname=rule.alert,
            when="one of a night's two storage calls times out (minimum-traffic guard)",
            input_series=_storage_calls(NIGHT_EVENTS_PER_MINUTE / 2, NIGHT_EVENTS_PER_MINUTE / 2, minutes),
            eval_time="25m",
        ),
    ]


def storage_slow_cases() -> list[Case]:
    rule = rule_named("CsvbotStorageSlow")
    below, at, above = bucket_around(slo.STORAGE_BUCKETS, slo.STORAGE_SLOW_SECONDS)
    labels = {**WORKER, "operation": "download", "outcome": "ok"}
    metric = "csvbot_storage_request_duration_seconds"
    p95 = quantile_in(at, above, 0.95)
    return [
        Case(
            alertname=rule.alert,
            when=f"every download takes between {at:g}s and {above:g}s",
            input_series=observed_in(metric, labels, at, above, per_minute=10, minutes=25),
            eval_time="25m",
            expected=[expect(rule, p95, {"operation": "download", "quantile": "0.95"})],
        ),
        Case(
            alertname=rule.alert,
            when=f"every download takes between {below:g}s and {at:g}s (p95 just under the threshold)",
            input_series=observed_in(metric, labels, below, at, per_minute=10, minutes=25),
            eval_time="25m",
        ),
    ]


def pool_wait_cases() -> list[Case]:
    rule = rule_named("CsvbotDbPoolWaitHigh")
    below, at, above = bucket_around(slo.DB_BUCKETS, slo.POOL_WAIT_P95_MAX_SECONDS)
    metric = "csvbot_db_pool_wait_seconds"
    p95 = quantile_in(at, above, 0.95)
    return [
        Case(
            alertname=rule.alert,
            when=f"every session wait lasts between {at:g}s and {above:g}s",
            input_series=[*observed_in(metric, BOT, at, above, per_minute=30, minutes=20), *_limits(20)],
            eval_time="20m",
            expected=[expect(rule, p95, {**BOT, "quantile": "0.95"}, LIMIT_QUERIES)],
        ),
        Case(
            alertname=rule.alert,
            when=f"every session wait lasts between {below:g}s and {at:g}s",
            input_series=[*observed_in(metric, BOT, below, at, per_minute=30, minutes=20), *_limits(20)],
            eval_time="20m",
        ),
    ]


def acquire_timeout_cases() -> list[Case]:
    rule = rule_named("CsvbotDbPoolAcquireTimeouts")
    metric = "csvbot_db_pool_acquire_timeouts_total"
    return [
        Case(
            alertname=rule.alert,
            when="one caller a minute gives up waiting for a session",
            input_series=[series(metric, BOT, counter(1, 20)), *_limits(20)],
            eval_time="20m",
            # A steady 1/min counter increases by exactly 5 over the 5m window.
            expected=[expect(rule, 5, BOT, LIMIT_QUERIES)],
        ),
        Case(
            alertname=rule.alert,
            when="the last acquire timeout is older than the window",
            input_series=[series(metric, BOT, "0+1x5 5x15"), *_limits(20)],
            eval_time="20m",
        ),
    ]


def queue_backlog_cases() -> list[Case]:
    rule = rule_named("CsvbotJobQueueBacklogGrowing")
    metric = "csvbot_job_queue_depth"
    # Two more jobs queued every minute than the workers finish, for 25 minutes; then flat, so
    # that the alert's value at 30m does not depend on whether the recording rule ran first.
    growing = "0+2x25 50x5"
    return [
        Case(
            alertname=rule.alert,
            when=f"the queue grows by two jobs a minute for longer than {slo.QUEUE_BACKLOG_FOR}",
            # Both processes report the one shared queue: the rule takes the max, not the sum.
            input_series=[series(metric, BOT, growing), series(metric, WORKER, growing)],
            eval_time="30m",
            expected=[expect(rule, 50, {})],
        ),
        Case(
            alertname=rule.alert,
            when="a steady backlog of 25 jobs is worked off as fast as it arrives",
            input_series=[series(metric, BOT, gauge(25, 30)), series(metric, WORKER, gauge(25, 30))],
            eval_time="30m",
        ),
    ]


def heartbeat_cases() -> list[Case]:
    rule = rule_named("CsvbotWorkerHeartbeatStale")
    metric = "csvbot_worker_heartbeat_timestamp_seconds"
    return [
        Case(
            alertname=rule.alert,
            when="the worker's last beat was at 5m and it is now 10m",
            # Each sample holds the Unix time of the last beat: fresh until 5m, then stuck.
            input_series=[series(metric, WORKER, "0+60x5 300x10")],
            eval_time="10m",
            expected=[expect(rule, 300, WORKER)],
        ),
        Case(
            alertname=rule.alert,
            when="the worker beats on time",
            input_series=[series(metric, WORKER, "0+60x15")],
            eval_time="10m",
        ),
        Case(
            alertname=rule.alert,
            when="a process that never ran a worker exports 0",
            input_series=[series(metric, BOT, gauge(0, 15))],
            eval_time="10m",
        ),
    ]


def service_cases() -> list[Case]:
    return [
        *success_rate_cases(),
        *storage_timeout_cases(),
        *storage_slow_cases(),
        *pool_wait_cases(),
        *acquire_timeout_cases(),
        *queue_backlog_cases(),
        *heartbeat_cases(),
    ]
