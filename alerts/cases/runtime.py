"""Cases for the process alerts: event-loop lag, dropped log records, scrape targets."""

from __future__ import annotations

from alerts.cases.histograms import bucket_around, observed_in, quantile_in
from alerts.cases.model import BOT, WORKER, Case, counter, expect, for_boundary, gauge, rule_named, series
from telemetry import slo


def loop_lag_cases() -> list[Case]:
    rule = rule_named("CsvbotEventLoopLagHigh")
    below, at, above = bucket_around(slo.LOOP_LAG_BUCKETS, slo.EVENT_LOOP_LAG_P99_WARN_SECONDS)
    metric = "csvbot_event_loop_lag_seconds"
    p99 = quantile_in(at, above, 0.99)
    return [
        Case(
            alertname=rule.alert,
            when=f"every loop wake-up is between {at:g}s and {above:g}s late for 20m",
            input_series=observed_in(metric, BOT, at, above, per_minute=240, minutes=20),
            eval_time=for_boundary(rule, onset=1)[0],
            quiet_at=for_boundary(rule, onset=1)[1],
            expected=[expect(rule, p99, {**BOT, "quantile": "0.99"})],
        ),
        Case(
            alertname=rule.alert,
            when=f"every loop wake-up is between {below:g}s and {at:g}s late",
            input_series=observed_in(metric, BOT, below, at, per_minute=240, minutes=20),
            eval_time="20m",
        ),
    ]


def log_dropped_cases() -> list[Case]:
    rule = rule_named("CsvbotLogRecordsDropped")
    metric = "csvbot_log_records_dropped_total"
    # One, two and three records a minute for the three levels that must never be lost (a steady
    # n/min counter increases by exactly 5n over the 5m window); DEBUG and INFO may be shed.
    never = {level: n for n, level in enumerate(slo.LOG_LEVELS_NEVER_DROP, start=1)}
    return [
        Case(
            alertname=rule.alert,
            when="WARNING, ERROR and CRITICAL records are dropped (and DEBUG and INFO ones too)",
            input_series=[
                *(series(metric, {**BOT, "level": lv}, counter(n, 20)) for lv, n in never.items()),
                *(series(metric, {**BOT, "level": lv}, counter(50, 20)) for lv in slo.LOG_LEVELS_SHEDDABLE),
            ],
            eval_time="20m",
            expected=[expect(rule, 5 * n, {**BOT, "level": lv}) for lv, n in never.items()],
        ),
        Case(
            alertname=rule.alert,
            when="only DEBUG and INFO records are dropped",
            input_series=[
                *(series(metric, {**BOT, "level": lv}, counter(0, 20)) for lv in never),
                *(series(metric, {**BOT, "level": lv}, counter(50, 20)) for lv in slo.LOG_LEVELS_SHEDDABLE),
            ],
            eval_time="20m",
        ),
    ]


def _info_records(accepted_per_minute: float, dropped_per_minute: float) -> list[dict[str, str]]:
    labels = {**BOT, "level": "info"}
    return [
        series("csvbot_log_records_total", labels, counter(accepted_per_minute, 20)),
        series("csvbot_log_records_dropped_total", labels, counter(dropped_per_minute, 20)),
    ]


def log_drop_ratio_cases() -> list[Case]:
    rule = rule_named("CsvbotLogDropRatioHigh")
    # 1.5x and 0.67x the tolerance: a tolerance twice or half as large turns one case around.
    high = round(slo.LOG_DROP_RATIO_MAX * 1.5, 4)
    low = round(slo.LOG_DROP_RATIO_MAX * 0.67, 4)
    return [
        Case(
            alertname=rule.alert,
            when=f"{high:.1%} of INFO records are dropped (tolerance {slo.LOG_DROP_RATIO_MAX:.0%})",
            input_series=_info_records((1 - high) * 1000, high * 1000),
            eval_time=for_boundary(rule, onset=1)[0],
            quiet_at=for_boundary(rule, onset=1)[1],
            expected=[expect(rule, high, BOT)],
        ),
        Case(
            alertname=rule.alert,
            when=f"{low:.2%} of INFO records are dropped",
            input_series=_info_records((1 - low) * 1000, low * 1000),
            eval_time="20m",
        ),
    ]


#: A scrape job that is not csvbot's: its targets are none of these alerts' business.
OTHER = {"job": "node", "instance": "node:9100"}


def target_down_cases() -> list[Case]:
    rule = rule_named("CsvbotTargetDown")
    # Down from minute 6 on: fires at 6m + for, not one evaluation earlier.
    fire_at, quiet_at = for_boundary(rule, onset=6)
    return [
        Case(
            alertname=rule.alert,
            when="the bot and the worker fail every scrape from 6m on (and another job's target too)",
            input_series=[
                series("up", BOT, "1x5 0x5"),
                series("up", WORKER, "1x5 0x5"),
                series("up", OTHER, "1x5 0x5"),
            ],
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, 0, BOT), expect(rule, 0, WORKER)],
        ),
        Case(
            alertname=rule.alert,
            when="the worker has failed scrapes for 1m only (a restart)",
            input_series=[series("up", BOT, gauge(1, 10)), series("up", WORKER, "1x5 0x1")],
            eval_time="7m",
        ),
    ]


def target_absent_cases() -> list[Case]:
    rule = rule_named("CsvbotTargetAbsent")
    # absent() is true from the first evaluation: fires at 0 + for.
    fire_at, quiet_at = for_boundary(rule, onset=0)
    return [
        Case(
            alertname=rule.alert,
            when="the worker job has had no target from the start",
            input_series=[series("up", BOT, gauge(1, 10))],
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, 1, {"job": WORKER["job"]})],
        ),
        Case(
            alertname=rule.alert,
            when="the bot job has had no target for 10m",
            input_series=[series("up", WORKER, gauge(1, 10)), series("up", OTHER, gauge(1, 10))],
            eval_time="10m",
            expected=[expect(rule, 1, {"job": BOT["job"]})],
        ),
        Case(
            alertname=rule.alert,
            when="both jobs have a target",
            input_series=[series("up", BOT, gauge(1, 10)), series("up", WORKER, gauge(1, 10))],
            eval_time="10m",
        ),
    ]


def runtime_cases() -> list[Case]:
    return [
        *loop_lag_cases(),
        *log_dropped_cases(),
        *log_drop_ratio_cases(),
        *target_down_cases(),
        *target_absent_cases(),
    ]
