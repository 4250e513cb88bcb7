"""Telegram API: how the Bot API answers us — calls by method and status, 429s, latency."""

from __future__ import annotations

from typing import Any

from dashboards.layout import Section, build, runbook_link
from dashboards.panels import ANY, instant, query, stat, table, timeseries
from dashboards.queries import increase_over_range, quantile, rate, top
from telemetry import slo

CALLS = "csvbot_telegram_requests_total"
RETRY_AFTER = 'status="retry_after"'
FAILED = 'status=~"client_error|server_error|network_error"'
TROUBLE = 'status=~"retry_after|server_error"'


def summary() -> Section:
    return Section(
        "Time range",
        [
            stat("Bot API calls", query(increase_over_range(CALLS)), decimals=0),
            stat(
                "429 Too Many Requests",
                query(increase_over_range(CALLS, RETRY_AFTER)),
                lines=[(ANY, "orange")],
                decimals=0,
                description="Telegram asked us to back off (retry_after drives the wait).",
            ),
            stat("Failed calls", query(increase_over_range(CALLS, FAILED)), lines=[(ANY, "red")], decimals=0),
            stat(
                "Flood-limited updates", query(increase_over_range("csvbot_flood_limited_total")), decimals=0
            ),
        ],
        height=5,
    )


def calls() -> Section:
    return Section(
        "Calls",
        [
            timeseries(
                "Calls / s by method and status (top 10)",
                [query(top(10, rate(CALLS, by=("method", "status"))), "{{method}} {{status}}")],
                unit="reqps",
                stacked=True,
            ),
            timeseries(
                "429s / s by method",
                [query(rate(CALLS, RETRY_AFTER, by=("method",)), "{{method}}")],
                unit="reqps",
            ),
            timeseries(
                "429 and 5xx share by method",
                [
                    query(
                        f"{rate(CALLS, TROUBLE, by=('method',))}\n/\n{rate(CALLS, by=('method',))}",
                        "{{method}}",
                    )
                ],
                unit="percentunit",
                lines=[(slo.TELEGRAM_TROUBLE_RATIO_MAX, "red")],
                description="Share of each method's calls answered 429 (retry_after) or 5xx; above the "
                "red line for 5 minutes warns.",
                links=[runbook_link("CsvbotTelegramApiTrouble")],
            ),
            timeseries(
                "Call latency p95 by method",
                [
                    query(
                        quantile(0.95, "csvbot_telegram_request_duration_seconds", by=("method",)),
                        "{{method}}",
                    )
                ],
                unit="s",
            ),
        ],
    )


def breakdown() -> Section:
    return Section(
        "Breakdown",
        [
            table(
                "Calls in the time range by method and status (top 20)",
                [instant(top(20, increase_over_range(CALLS, by=("method", "status"))))],
            ),
            timeseries(
                "Flood-limited updates / s",
                [query(rate("csvbot_flood_limited_total"), "refused")],
                unit="reqps",
                description="Updates refused by the per-user flood limit (FLOOD_MAX_UPDATES per "
                "FLOOD_WINDOW_SECONDS).",
            ),
        ],
    )


def dashboard() -> dict[str, Any]:
    return build(
        "telegram",
        "csvbot / Telegram API",
        "How the Bot API treats us: calls by method and status, 429 back-offs, failures, latency.",
        [summary(), calls(), breakdown()],
    )
