"""Storage: is Supabase Storage (or the local store) fast and reliable, per operation?"""

from __future__ import annotations

from typing import Any

from dashboards.layout import Section, build, custom_variable, runbook_link
from dashboards.panels import heatmap, instant, query, table, timeseries
from dashboards.queries import buckets, increase_over_range, quantile_targets, rate, top
from promlib import names
from promlib.humanize import humanize_duration as dur
from promlib.humanize import humanize_percentage as pct
from telemetry import labels, slo

OPERATION = 'operation=~"$operation"'
HISTOGRAM = "csvbot_storage_request_duration_seconds"
SLOW_AND_TIMEOUT = [(slo.STORAGE_SLOW_SECONDS, "orange"), (slo.STORAGE_TIMEOUT_SECONDS, "red")]


def latency() -> Section:
    return Section(
        "Latency by operation",
        [
            timeseries(
                "Storage latency p50 / p95 / p99",
                quantile_targets(HISTOGRAM, OPERATION, by=("operation",), legend="{{operation}}"),
                unit="s",
                lines=SLOW_AND_TIMEOUT,
                description=f"Retries included. Slow above {dur(slo.STORAGE_SLOW_SECONDS)}; the "
                f"deadline is {dur(slo.STORAGE_TIMEOUT_SECONDS)}. Exemplars link to the trace.",
                links=[runbook_link("CsvbotStorageSlow")],
            ),
            timeseries(
                "Storage calls / s by operation and outcome",
                [
                    query(
                        rate(f"{HISTOGRAM}_count", OPERATION, by=("operation", "outcome")),
                        "{{operation}} {{outcome}}",
                    )
                ],
                unit="reqps",
                stacked=True,
            ),
        ],
        height=9,
    )


def distribution() -> Section:
    return Section(
        "Latency distribution",
        [
            heatmap(
                "Latency heatmap: $operation",
                buckets(HISTOGRAM, 'operation=~"$operation"'),
                description="One heatmap per selected operation, over the histogram's own buckets.",
                repeat="operation",
            )
        ],
        widths=[8],
    )


def failures() -> Section:
    return Section(
        "Timeouts, retries, slow calls",
        [
            timeseries(
                "Timeout ratio",
                [query(names.STORAGE_TIMEOUT_RATIO, "all operations (10 m)")],
                unit="percentunit",
                lines=[(slo.STORAGE_TIMEOUT_RATIO_MAX, "red")],
                description=f"Operations ending in storage_timeout over all. Above "
                f"{pct(slo.STORAGE_TIMEOUT_RATIO_MAX)} for 5 minutes pages.",
                links=[runbook_link("CsvbotStorageTimeoutsHigh")],
            ),
            timeseries(
                "Timeouts / s by operation",
                [query(rate("csvbot_storage_timeouts_total", OPERATION, by=("operation",)), "{{operation}}")],
                unit="reqps",
                links=[runbook_link("CsvbotStorageTimeoutsHigh")],
            ),
            timeseries(
                "Retries / s by operation",
                [query(rate("csvbot_storage_retries_total", OPERATION, by=("operation",)), "{{operation}}")],
                unit="reqps",
            ),
            timeseries(
                f"Slow calls (> {dur(slo.STORAGE_SLOW_SECONDS)}) / s",
                [
                    query(
                        rate("csvbot_storage_slow_requests_total", OPERATION, by=("operation",)),
                        "{{operation}}",
                    )
                ],
                unit="reqps",
                links=[runbook_link("CsvbotStorageSlow")],
            ),
        ],
    )


def volume() -> Section:
    return Section(
        "Volume",
        [
            timeseries(
                "Bytes / s by direction",
                [query(rate("csvbot_storage_transferred_bytes_total", by=("direction",)), "{{direction}}")],
                unit="Bps",
            ),
            table(
                "Calls in the time range by operation and outcome (top 20)",
                [
                    instant(
                        top(
                            20,
                            increase_over_range(f"{HISTOGRAM}_count", OPERATION, by=("operation", "outcome")),
                        )
                    )
                ],
            ),
        ],
    )


def dashboard() -> dict[str, Any]:
    return build(
        "storage",
        "csvbot / Storage",
        "Which storage operation is slow or failing, how often calls time out or retry, and how "
        "many bytes move.",
        [latency(), distribution(), failures(), volume()],
        variables=[custom_variable("operation", "Operation", labels.STORAGE_OPERATIONS)],
    )
