"""Alerts on the processes themselves: event-loop lag, lost log records, scrape targets."""

from __future__ import annotations

from collections.abc import Sequence

from alerts.model import AlertRule
from alerts.timing import Timing
from promlib import names
from promlib.humanize import humanize_duration, humanize_percentage
from promlib.promql import any_of, quantile_label
from telemetry import slo
from telemetry.slo import LOG_LEVELS_NEVER_DROP

#: Lag must persist: one slow CSV parse on the loop is a log line, ten minutes of it is an alert.
LOOP_LAG_FOR = "10m"
#: Window in which any dropped WARNING+ record fires (and keeps the alert up for review).
LOG_DROP_WINDOW = "5m"
LOG_DROP_RATIO_FOR = "5m"
#: Two minutes of failed scrapes: longer than a restart, shorter than an outage users notice.
TARGET_DOWN_FOR = "2m"
#: A target missing from service discovery for 5 minutes (a deploy takes under a minute).
TARGET_ABSENT_FOR = "5m"


def event_loop_lag_high(timing: Timing) -> AlertRule:
    limit = humanize_duration(slo.EVENT_LOOP_LAG_P99_WARN_SECONDS)
    return AlertRule(
        alert="CsvbotEventLoopLagHigh",
        expr=(
            f'{names.LOOP_LAG_LATENCY}{{quantile="{quantile_label(0.99)}"}} '
            f"> {slo.EVENT_LOOP_LAG_P99_WARN_SECONDS:g}"
        ),
        hold=timing.hold(LOOP_LAG_FOR),
        severity="warning",
        summary=f"The event loop lags more than {limit} at p99.",
        description=(
            "p99 event-loop lag on {{ $labels.instance }} is {{ $value | humanizeDuration }} "
            f"(limit {limit}). Something blocks the loop: look for the 'event loop lag' log "
            "lines naming the slow task."
        ),
    )


def log_records_dropped(timing: Timing) -> AlertRule:
    window = timing.window(LOG_DROP_WINDOW)
    levels = any_of(LOG_LEVELS_NEVER_DROP)
    return AlertRule(
        alert="CsvbotLogRecordsDropped",
        expr=(
            "sum by (job, instance, level) "
            f'(increase(csvbot_log_records_dropped_total{{level=~"{levels}"}}[{window}])) > 0'
        ),
        severity="warning",
        summary="WARNING or worse log records were dropped.",
        description=(
            "{{ $value | humanize }} {{ $labels.level }} records were dropped by the log queue "
            "on {{ $labels.instance }} in the last " + LOG_DROP_WINDOW + ": evidence is lost. "
            "Raise LOG_QUEUE_SIZE or find what floods the log."
        ),
    )


def log_drop_ratio_high(timing: Timing) -> AlertRule:
    limit = humanize_percentage(slo.LOG_DROP_RATIO_MAX)
    return AlertRule(
        alert="CsvbotLogDropRatioHigh",
        expr=f"{names.LOG_DROP_RATIO} > {slo.LOG_DROP_RATIO_MAX:g}",
        hold=timing.hold(LOG_DROP_RATIO_FOR),
        severity="warning",
        summary=f"More than {limit} of DEBUG/INFO log records are dropped.",
        description=(
            "{{ $value | humanizePercentage }} of DEBUG/INFO records were dropped on "
            "{{ $labels.instance }} over the last 10m "
            f"(tolerance {limit}). Raise LOG_QUEUE_SIZE or LOG_LEVEL."
        ),
    )


def target_down(timing: Timing, jobs: Sequence[str]) -> AlertRule:
    return AlertRule(
        alert="CsvbotTargetDown",
        expr=f'up{{job=~"{any_of(jobs)}"}} == 0',
        hold=timing.hold(TARGET_DOWN_FOR),
        severity="critical",
        summary="Prometheus cannot scrape a csvbot process.",
        description=(
            "{{ $labels.job }} at {{ $labels.instance }} has failed every scrape for "
            + TARGET_DOWN_FOR
            + " (up = {{ $value }}). The process is down, hung, or METRICS_HOST/METRICS_PORT is wrong."
        ),
    )


def target_absent(timing: Timing, jobs: Sequence[str]) -> AlertRule:
    # One absent() per job: each yields a series labelled with its job, so one rule covers all.
    return AlertRule(
        alert="CsvbotTargetAbsent",
        expr="\nor\n".join(f'absent(up{{job="{job}"}})' for job in jobs),
        hold=timing.hold(TARGET_ABSENT_FOR),
        severity="critical",
        summary="A csvbot scrape job has no targets at all.",
        description=(
            "Prometheus has had no target for {{ $labels.job }} for " + TARGET_ABSENT_FOR + " "
            "(absent = {{ $value }}): the service is not deployed or service discovery lost it."
        ),
    )


def runtime_alerts(timing: Timing, jobs: Sequence[str]) -> list[AlertRule]:
    return [
        event_loop_lag_high(timing),
        log_records_dropped(timing),
        log_drop_ratio_high(timing),
        target_down(timing, jobs),
        target_absent(timing, jobs),
    ]
