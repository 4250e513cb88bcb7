"""Database: is the session limit right? Pool use, waits, acquire timeouts, query latency."""

from __future__ import annotations

from typing import Any

from dashboards.layout import Section, build, runbook_link
from dashboards.panels import ANY, instant, query, stat, table, timeseries
from dashboards.queries import increase_over_range, quantile, rate, sel
from promlib import names
from promlib.humanize import humanize_duration as dur
from telemetry import slo

PER_PROCESS = ("job", "instance")
RAISE_LIMIT = "If waits stay high, raise SUPABASE_SESSION_LIMIT by one (up to SUPABASE_SESSION_LIMIT_MAX)."


def limit() -> Section:
    return Section(
        "Session limit",
        [
            stat("Session limit", query(f"max({sel('csvbot_db_session_limit')})")),
            stat("Ceiling", query(f"max({sel('csvbot_db_session_limit_ceiling')})")),
            stat(
                "Acquire timeouts (time range)",
                query(increase_over_range("csvbot_db_pool_acquire_timeouts_total")),
                lines=[(ANY, "red")],
                decimals=0,
                links=[runbook_link("CsvbotDbPoolAcquireTimeouts")],
            ),
            table(
                "Limit changes in the time range",
                [
                    instant(
                        increase_over_range(
                            "csvbot_db_session_limit_changes_total", by=("source", "direction")
                        )
                    )
                ],
            ),
        ],
        widths=[4, 4, 4, 12],
        height=5,
    )


def pool() -> Section:
    return Section(
        "Pool",
        [
            timeseries(
                "Sessions in use vs limit",
                [
                    query(sel("csvbot_db_pool_in_use"), "{{instance}} in use"),
                    query(sel("csvbot_db_session_limit"), "{{instance}} limit"),
                    query(sel("csvbot_db_session_limit_ceiling"), "{{instance}} ceiling"),
                ],
            ),
            timeseries(
                "Pool utilisation",
                [query(f'{names.POOL_UTILISATION}{{instance=~"$instance"}}', "{{instance}}")],
                unit="percentunit",
                max_value=1,
                description="Sessions lent out over the limit (recording rule). Pinned at 100 % with "
                "callers waiting means the limit is the bottleneck.",
            ),
            timeseries(
                "Callers waiting for a session",
                [query(sel("csvbot_db_pool_waiting"), "{{instance}}")],
            ),
        ],
    )


def waits() -> Section:
    wait = "csvbot_db_pool_wait_seconds"
    return Section(
        "Waits and queries",
        [
            timeseries(
                "Session wait p95 / p99",
                [
                    query(quantile(0.95, wait, by=PER_PROCESS), "{{instance}} p95"),
                    query(quantile(0.99, wait, by=PER_PROCESS), "{{instance}} p99"),
                ],
                unit="s",
                lines=[(slo.POOL_WAIT_P95_MAX_SECONDS, "orange"), (slo.POOL_ACQUIRE_TIMEOUT_SECONDS, "red")],
                description=f"p95 above {dur(slo.POOL_WAIT_P95_MAX_SECONDS)} for 5 minutes warns; at "
                f"{dur(slo.POOL_ACQUIRE_TIMEOUT_SECONDS)} a caller gives up. {RAISE_LIMIT}",
                links=[runbook_link("CsvbotDbPoolWaitHigh")],
            ),
            timeseries(
                "Acquire timeouts / s",
                [query(rate("csvbot_db_pool_acquire_timeouts_total", by=PER_PROCESS), "{{instance}}")],
                unit="reqps",
                links=[runbook_link("CsvbotDbPoolAcquireTimeouts")],
            ),
            timeseries(
                "Query latency p95 by query",
                [query(quantile(0.95, "csvbot_db_query_duration_seconds", by=("query",)), "{{query}}")],
                unit="s",
            ),
            timeseries(
                "Queries / s by query",
                [query(rate("csvbot_db_query_duration_seconds_count", by=("query",)), "{{query}}")],
                unit="reqps",
                stacked=True,
            ),
        ],
    )


def dashboard() -> dict[str, Any]:
    return build(
        "database",
        "csvbot / Database",
        "Is SUPABASE_SESSION_LIMIT right? The live limit and ceiling, sessions in use, waits, "
        "acquire timeouts and query latency.",
        [limit(), pool(), waits()],
    )
