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


# --- connection budget: grants per process, and every limit decision as an annotation ----------

CHANGES = "csvbot_db_session_limit_changes_total"


def budget() -> Section:
    return Section(
        "Connection budget",
        [
            timeseries(
                "Grants per process vs budget",
                [
                    query(sel("csvbot_db_session_grant"), "{{instance}} grant"),
                    query(f"sum({sel('csvbot_db_session_grant')})", "all grants"),
                    query(f"max({sel('csvbot_db_session_budget')})", "budget"),
                ],
                stacked=False,
                description="Each process's share of the budget (SUPABASE_POOL_SIZE - "
                "SUPABASE_SESSION_RESERVE). All grants together never exceed it; a process pinned at "
                "its grant with callers waiting wants more.",
            ),
            timeseries(
                "Limit decisions / s by source and direction",
                [query(rate(CHANGES, by=("source", "direction")), "{{source}} {{direction}}")],
                unit="reqps",
                description="up / down: the limit changed; hold: a decision not to change it "
                "(the WARNING log line says why).",
            ),
        ],
    )


def limit_change_annotations() -> list[dict[str, Any]]:
    """Every change of the limit as a marker on every panel of the dashboard."""
    return [
        {
            "name": "Session limit changes",
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "enable": True,
            "iconColor": "orange",
            "expr": f'sum by (source, direction) (increase({CHANGES}{{direction!="hold"}}[1m])) > 0',
            "step": "1m",
            "titleFormat": "session limit {{direction}}",
            "textFormat": "by {{source}}",
            "useValueForTime": False,
        }
    ]


def dashboard() -> dict[str, Any]:
    data = build(
        "database",
        "csvbot / Database",
        "Is SUPABASE_SESSION_LIMIT right? The live limit and ceiling, sessions in use, waits, "
        "acquire timeouts and query latency; the connection budget's grants per process.",
        [limit(), pool(), waits(), budget()],
    )
    annotations = data.get("annotations")
    existing = list(getattr(annotations, "list", None) or [])
    # Grafana's own "Annotations & Alerts" stays; the limit's changes are added to it.
    data["annotations"] = {"list": [*existing, *limit_change_annotations()]}
    return data
