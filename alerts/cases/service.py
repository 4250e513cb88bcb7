"""Cases for the user-facing alerts: success rate, storage, database pool, queue, heartbeat."""

from __future__ import annotations

from alerts.cases.histograms import bucket_around, observed_in, quantile_in
from alerts.cases.model import (
    BOT,
    WORKER,
    Case,
    counter,
    expect,
    for_boundary,
    gauge,
    hold_minutes,
    minutes,
    rule_named,
    series,
)
from alerts.service_alerts import (
    JOBS_OLDEST_AGE,
    QUEUE_TREND_WINDOW,
    RESULTS_UNDELIVERED,
    RESULTS_UNDELIVERED_OLDEST_AGE,
    STORAGE_DEADLINE_QUERY,
)
from telemetry import slo

#: The live limit and ceiling the success-rate and pool annotations read back.
LIMIT_QUERIES = {
    "max(csvbot_db_session_limit)": float(slo.SESSION_LIMIT_DEFAULT),
    "max(csvbot_db_session_limit_ceiling)": float(slo.SESSION_LIMIT_CEILING_DEFAULT),
}
#: The minimum-traffic guard (slo.BURN_RATE_MIN_EVENTS_PER_SECOND) in events a minute, and the
#: traffic of the cases on either side of it: 1.5x and 0.67x, so that a guard twice or half as
#: high is caught.
GUARD_PER_MINUTE = slo.BURN_RATE_MIN_EVENTS_PER_SECOND * 60
NIGHT_EVENTS_PER_MINUTE = round(GUARD_PER_MINUTE * 0.67, 4)
QUIET_HOUR_EVENTS_PER_MINUTE = round(GUARD_PER_MINUTE * 1.5, 4)
#: Every case checks a threshold from both sides this close: a threshold doubled or halved
#: turns one of the two around.
ABOVE, BELOW = 1.5, 0.67


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
    # Failures from the first sample on: the ratio is below the floor from minute 1.
    fire_at, quiet_at = for_boundary(rule, onset=1)
    # _user_actions feeds updates and jobs alike: per stream, half the total.
    night = NIGHT_EVENTS_PER_MINUTE / 4
    quiet_hour = QUIET_HOUR_EVENTS_PER_MINUTE / 4
    return [
        Case(
            alertname=rule.alert,
            when=(
                f"success stays at {low:.0%} (< {slo.SUCCESS_RATE_MIN:.0%}) "
                f"for {slo.SUCCESS_RATE_FOR} (and not a minute less)"
            ),
            input_series=[*_user_actions(low * 100, (1 - low) * 100, minutes), *_limits(minutes)],
            eval_time=fire_at,
            quiet_at=quiet_at,
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
            when=f"half of {QUIET_HOUR_EVENTS_PER_MINUTE:g} actions a minute fail (just above the guard)",
            input_series=[*_user_actions(quiet_hour, quiet_hour, minutes), *_limits(minutes)],
            eval_time="20m",
            expected=[expect(rule, 0.5, {}, LIMIT_QUERIES)],
        ),
        Case(
            alertname=rule.alert,
            when=f"half of a night's {NIGHT_EVENTS_PER_MINUTE:g} actions a minute fail (traffic guard)",
            input_series=[*_user_actions(night, night, minutes), *_limits(minutes)],
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
    high = round(slo.STORAGE_TIMEOUT_RATIO_MAX * ABOVE, 4)
    low = round(slo.STORAGE_TIMEOUT_RATIO_MAX * BELOW, 4)
    minutes = 25
    fire_at, quiet_at = for_boundary(rule, onset=1)
    night = NIGHT_EVENTS_PER_MINUTE / 2
    quiet_hour = QUIET_HOUR_EVENTS_PER_MINUTE / 2
    return [
        Case(
            alertname=rule.alert,
            when=f"{high:.1%} of storage calls time out (limit {slo.STORAGE_TIMEOUT_RATIO_MAX:.0%})",
            # The service runs with STORAGE_TIMEOUT_SECONDS=3: the text says 3s, not the default.
            input_series=[
                *_storage_calls((1 - high) * 100, high * 100, minutes),
                series("csvbot_config_storage_timeout_seconds", WORKER, gauge(3, minutes)),
            ],
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, high, {}, {STORAGE_DEADLINE_QUERY: 3.0})],
        ),
        Case(
            alertname=rule.alert,
            when=f"{low:.2%} of storage calls time out",
            input_series=_storage_calls((1 - low) * 100, low * 100, minutes),
            eval_time="25m",
        ),
        Case(
            alertname=rule.alert,
            when=f"half of {QUIET_HOUR_EVENTS_PER_MINUTE:g} storage calls a minute time out (above guard)",
            input_series=_storage_calls(quiet_hour, quiet_hour, minutes),
            eval_time="25m",
            expected=[expect(rule, 0.5, {})],
        ),
        Case(
            alertname=rule.alert,
            when=f"half of a night's {NIGHT_EVENTS_PER_MINUTE:g} storage calls a minute time out",
            input_series=_storage_calls(night, night, minutes),
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
            eval_time=for_boundary(rule, onset=1)[0],
            quiet_at=for_boundary(rule, onset=1)[1],
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
            eval_time=for_boundary(rule, onset=1)[0],
            quiet_at=for_boundary(rule, onset=1)[1],
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
    # Two more jobs queued every minute than the workers finish, from the start: non-empty and
    # growing from minute 1 on.
    growing = "0+2x30"
    fire_at, quiet_at = for_boundary(rule, onset=1)
    # Grew for 20m, then fell by one a minute for 4m: over the last 10m the trend is still up
    # (least-squares slope +0.9/min), over the last 5m it is down (-0.6/min).
    turning = "0+2x20 39-1x3"
    # Grew for 20m, then fell by two a minute for 8m: down over the last 10m (-1.5/min), still up
    # over the last 20m (+0.6/min).
    falling = "0+2x20 38-2x7"
    return [
        Case(
            alertname=rule.alert,
            when=f"the queue grows by two jobs a minute for {slo.QUEUE_BACKLOG_FOR} (and not a minute less)",
            # Both processes report the one shared queue: the rule takes the max, not the sum.
            input_series=[series(metric, BOT, growing), series(metric, WORKER, growing)],
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, 2 * int(fire_at.removesuffix("m")), {})],
        ),
        Case(
            alertname=rule.alert,
            when=f"the queue grew for 20m and fell for the last 4m (still up over {QUEUE_TREND_WINDOW})",
            input_series=[series(metric, BOT, turning), series(metric, WORKER, gauge(0, 24))],
            eval_time="24m",
            expected=[expect(rule, 36, {})],
        ),
        Case(
            alertname=rule.alert,
            when=f"the queue grew for 20m and fell for the last 8m (down over {QUEUE_TREND_WINDOW})",
            input_series=[series(metric, BOT, falling), series(metric, WORKER, gauge(0, 28))],
            eval_time="28m",
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
    stale = slo.WORKER_HEARTBEAT_STALE_SECONDS
    # Each sample holds the Unix time of the last beat; at 10m (600 s) the last one is `age` old.
    older, younger = round(stale * ABOVE), round(stale * BELOW)
    return [
        Case(
            alertname=rule.alert,
            when="the worker's last beat was at 5m and it is now 10m",
            input_series=[series(metric, WORKER, "0+60x5 300x10")],
            eval_time="10m",
            expected=[expect(rule, 300, WORKER)],
        ),
        Case(
            alertname=rule.alert,
            when=f"the worker's last beat is {older}s old (limit {stale:g}s)",
            input_series=[series(metric, WORKER, f"0+60x9 {600 - older}")],
            eval_time="10m",
            expected=[expect(rule, older, WORKER)],
        ),
        Case(
            alertname=rule.alert,
            when=f"the worker's last beat is {younger}s old",
            input_series=[series(metric, WORKER, f"0+60x9 {600 - younger}")],
            eval_time="10m",
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


def jobs_stuck_cases() -> list[Case]:
    rule = rule_named("CsvbotJobsStuck")
    metric = JOBS_OLDEST_AGE
    limit = slo.JOB_STUCK_SECONDS
    above, below = round(limit * ABOVE), round(limit * BELOW)
    # The oldest queued job ages a minute a minute: at minute n it is n minutes old, over the
    # limit from the first minute past it.
    onset = int(limit // 60) + 1
    fire_at, quiet_at = for_boundary(rule, onset=onset)
    queued = {**WORKER, "status": "queued"}
    return [
        Case(
            alertname=rule.alert,
            when=f"the oldest queued job ages past {limit:g}s (and not a minute before the for runs out)",
            # The bot runs a reaper too: both report the same rows, and the rule takes the max.
            input_series=[
                series(metric, queued, "0+60x40"),
                series(metric, {**BOT, "status": "queued"}, "0+60x40"),
                series(metric, {**WORKER, "status": "running"}, gauge(30, 40)),
            ],
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, 60 * int(fire_at.removesuffix("m")), {"status": "queued"})],
        ),
        Case(
            alertname=rule.alert,
            when=f"a received job has waited {above}s and a running one {below}s",
            input_series=[
                series(metric, {**WORKER, "status": "received"}, gauge(above, 15)),
                series(metric, {**WORKER, "status": "running"}, gauge(below, 15)),
            ],
            eval_time="15m",
            expected=[expect(rule, above, {"status": "received"})],
        ),
        Case(
            alertname=rule.alert,
            when=f"the oldest queued job is {below}s old (limit {limit:g}s)",
            input_series=[series(metric, queued, gauge(below, 15))],
            eval_time="15m",
        ),
    ]


def results_undelivered_cases() -> list[Case]:
    rule = rule_named("CsvbotResultsUndelivered")
    limit = slo.RESULT_UNDELIVERED_SECONDS
    onset = int(limit // 60) + 1
    fire_at, quiet_at = for_boundary(rule, onset=onset)
    count_query = f"max({RESULTS_UNDELIVERED})"
    below = round(limit * BELOW)
    return [
        Case(
            alertname=rule.alert,
            when=f"the oldest undelivered result ages past {limit:g}s, three waiting",
            input_series=[
                series(RESULTS_UNDELIVERED_OLDEST_AGE, WORKER, "0+60x30"),
                # A bot process without a reaper reports nothing waiting: the max is the worker's.
                series(RESULTS_UNDELIVERED_OLDEST_AGE, BOT, gauge(0, 30)),
                series(RESULTS_UNDELIVERED, WORKER, gauge(3, 30)),
            ],
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, 60 * int(fire_at.removesuffix("m")), {}, {count_query: 3})],
        ),
        Case(
            alertname=rule.alert,
            when=f"the oldest undelivered result finished {below}s ago",
            input_series=[series(RESULTS_UNDELIVERED_OLDEST_AGE, WORKER, gauge(below, 20))],
            eval_time="20m",
        ),
    ]


def broker_receive_cases() -> list[Case]:
    rule = rule_named("CsvbotBrokerReceiveFailing")
    metric = "csvbot_broker_receive_errors_total"
    per_minute = slo.BROKER_RECEIVE_ERRORS_PER_SECOND_MAX * 60
    # Above the limit only together: each kind alone is below it.
    half_above = round(per_minute * ABOVE / 2, 4)
    below = round(per_minute * BELOW, 4)
    # Eleven quiet samples, then the errors start (minute 11): the 5m rate climbs for five
    # minutes and crosses the limit three or four minutes in (where exactly depends on how the
    # Prometheus version bounds the range). It fires a for after the later, and not a minute
    # before a for after the earlier; by then the window is full and the rate is the errors'.
    hold = hold_minutes(rule)
    quiet_at, fire_at = minutes(11 + 3 + hold - 1), minutes(11 + 4 + hold)
    errors = f"0x10 0+{half_above:g}x20"
    other_worker = {"job": "csvbot-worker", "instance": "worker-2:9465"}
    return [
        Case(
            alertname=rule.alert,
            when=f"a worker fails {2 * half_above:g} reads a minute in two kinds (limit {per_minute:g})",
            input_series=[
                series(metric, {**WORKER, "kind": "connection"}, errors),
                series(metric, {**WORKER, "kind": "timeout"}, errors),
            ],
            eval_time=fire_at,
            quiet_at=(quiet_at,),
            expected=[expect(rule, 2 * half_above / 60, {"instance": WORKER["instance"]})],
        ),
        Case(
            alertname=rule.alert,
            when=f"a worker fails {below:g} reads a minute",
            input_series=[series(metric, {**WORKER, "kind": "connection"}, counter(below, 20))],
            eval_time="20m",
        ),
        Case(
            alertname=rule.alert,
            when="two workers each fail fewer reads than the limit, together more",
            input_series=[
                series(metric, {**WORKER, "kind": "connection"}, counter(per_minute * 0.67, 20)),
                series(metric, {**other_worker, "kind": "connection"}, counter(per_minute * 0.67, 20)),
            ],
            eval_time="20m",
        ),
    ]


def dependency_cases() -> list[Case]:
    rule = rule_named("CsvbotDependencyUnreachable")
    metric = "csvbot_dependency_ready"
    # Ready for six samples (0m-5m), then every probe of the database fails from minute 6 on.
    fire_at, quiet_at = for_boundary(rule, onset=6)
    database, storage = {**WORKER, "check": "database"}, {**WORKER, "check": "storage"}
    return [
        Case(
            alertname=rule.alert,
            when=f"the worker's database probes fail from minute 6 on (for {slo.DEPENDENCY_UNREACHABLE_FOR})",
            input_series=[series(metric, database, "1x5 0x20"), series(metric, storage, gauge(1, 26))],
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, 0, {"instance": WORKER["instance"], "check": "database"})],
        ),
        Case(
            alertname=rule.alert,
            when="the database probes fail for one minute and pass again",
            input_series=[series(metric, database, "1x5 0 1x20")],
            eval_time=fire_at,
        ),
        Case(
            alertname=rule.alert,
            when="every probe passes",
            input_series=[series(metric, database, gauge(1, 20)), series(metric, storage, gauge(1, 20))],
            eval_time="15m",
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
        *jobs_stuck_cases(),
        *results_undelivered_cases(),
        *broker_receive_cases(),
        *dependency_cases(),
    ]
