"""Runtime: is each process healthy — event loop, logging path, CPU, memory, file descriptors?"""

from __future__ import annotations

from typing import Any

from dashboards.layout import Section, build, runbook_link
from dashboards.panels import instant, query, table, timeseries
from dashboards.queries import quantile, rate, sel
from promlib.promql import any_of
from telemetry import slo
from telemetry.slo import LOG_LEVELS_NEVER_DROP

PER_PROCESS = ("job", "instance")


def event_loop() -> Section:
    lag = "csvbot_event_loop_lag_seconds"
    return Section(
        "Event loop",
        [
            timeseries(
                "Event-loop lag p50 / p99",
                [
                    query(quantile(0.5, lag, by=PER_PROCESS), "{{instance}} p50"),
                    query(quantile(0.99, lag, by=PER_PROCESS), "{{instance}} p99"),
                ],
                unit="s",
                lines=[
                    (slo.EVENT_LOOP_LAG_LOG_SECONDS, "orange"),
                    (slo.EVENT_LOOP_LAG_P99_WARN_SECONDS, "red"),
                ],
                description="How late the loop woke a periodic task. Above the orange line a log line "
                "names the slow task; p99 above the red line for 10 minutes warns.",
                links=[runbook_link("CsvbotEventLoopLagHigh")],
            ),
            timeseries(
                "Largest lag in the last window",
                [query(sel("csvbot_event_loop_lag_max_seconds"), "{{instance}}")],
                unit="s",
                lines=[(slo.EVENT_LOOP_LAG_P99_WARN_SECONDS, "red")],
            ),
        ],
    )


def logging() -> Section:
    never_drop = f'level=~"{any_of(LOG_LEVELS_NEVER_DROP)}"'
    return Section(
        "Logging path",
        [
            timeseries(
                "Log queue depth vs capacity",
                [
                    query(sel("csvbot_log_queue_depth"), "{{instance}} depth"),
                    query(sel("csvbot_log_queue_capacity"), "{{instance}} capacity"),
                ],
            ),
            timeseries(
                "Log queue fill",
                [
                    query(
                        f"{sel('csvbot_log_queue_depth')}\n/\n{sel('csvbot_log_queue_capacity')}",
                        "{{instance}}",
                    )
                ],
                unit="percentunit",
                lines=[(slo.LOG_QUEUE_NEAR_FULL_RATIO, "red")],
                max_value=1,
                description="Share of LOG_QUEUE_SIZE in use. Above the red line for 2 minutes warns: "
                "the writer is behind, and a full queue drops records.",
                links=[runbook_link("CsvbotLogQueueNearFull")],
            ),
            timeseries(
                "Log records / s by level",
                [query(rate("csvbot_log_records_total", by=("level",)), "{{level}}")],
                unit="reqps",
                stacked=True,
            ),
            timeseries(
                "Dropped records / s by level",
                [
                    query(
                        rate("csvbot_log_records_dropped_total", by=("instance", "level")),
                        "{{instance}} {{level}}",
                    ),
                    query(rate("csvbot_log_records_dropped_total", never_drop), "WARNING+ (must be 0)"),
                ],
                unit="reqps",
                links=[runbook_link("CsvbotLogRecordsDropped"), runbook_link("CsvbotLogDropRatioHigh")],
            ),
            timeseries(
                "Log batch write p99",
                [query(quantile(0.99, "csvbot_log_write_duration_seconds", by=PER_PROCESS), "{{instance}}")],
                unit="s",
            ),
        ],
    )


def process() -> Section:
    return Section(
        "Process",
        [
            timeseries(
                "CPU (cores)",
                [query(f"rate({sel('process_cpu_seconds_total')}[$__rate_interval])", "{{instance}}")],
                unit="short",
            ),
            timeseries(
                "Resident memory",
                [query(sel("process_resident_memory_bytes"), "{{instance}}")],
                unit="bytes",
            ),
            timeseries(
                "Open file descriptors",
                [
                    query(sel("process_open_fds"), "{{instance}} open"),
                    query(sel("process_max_fds"), "{{instance}} max"),
                ],
            ),
            timeseries(
                "Dependencies ready by instance",
                [
                    query(
                        f"min by (instance, check) ({sel('csvbot_dependency_ready')})",
                        "{{instance}} {{check}}",
                    )
                ],
                description="1 while the process's readiness probe of its database, storage and broker "
                "passes (what /readyz answers), 0 while it fails; 0 for "
                f"{slo.DEPENDENCY_UNREACHABLE_FOR} pages.",
                links=[runbook_link("CsvbotDependencyUnreachable")],
            ),
            table(
                "Running versions",
                [instant(f"max by (instance, service, version) ({sel('csvbot_build_info')})")],
                exclude=("Time", "Value"),
            ),
        ],
    )


def dashboard() -> dict[str, Any]:
    return build(
        "runtime",
        "csvbot / Runtime",
        "Is a process starved? Event-loop lag, the log queue and its drops, CPU, memory, open FDs, "
        "and whether it reaches its database, storage and broker.",
        [event_loop(), logging(), process()],
    )
