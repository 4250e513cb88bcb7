"""Service overview: is csvbot doing its job for users right now?"""

from __future__ import annotations

from typing import Any

from dashboards.layout import Section, build, dashboard_link, runbook_link
from dashboards.panels import instant, query, stat, table, timeseries
from dashboards.queries import increase_over_range, quantile_targets, rate, sel, top
from promlib import names
from promlib.humanize import humanize_duration as dur
from promlib.humanize import humanize_percentage as pct
from promlib.promql import any_of
from telemetry import slo
from telemetry.slo import COMMAND_HANDLERS, UPLOAD_HANDLER

COMMANDS = f'handler=~"{any_of(COMMAND_HANDLERS)}"'
UPLOADS = f'handler="{UPLOAD_HANDLER}"'
NOT_FAILED = 'outcome!="failed"'


def _slo_text(objective: slo.LatencySlo) -> str:
    return f"{pct(objective.target)} within {dur(objective.threshold_seconds)}"


def _success_over_range() -> str:
    updates, jobs = "csvbot_updates_total", "csvbot_jobs_total"
    good = f"{increase_over_range(updates, NOT_FAILED)} + {increase_over_range(jobs, NOT_FAILED)}"
    total = f"{increase_over_range(updates)} + {increase_over_range(jobs)}"
    return f"({good})\n/\n({total})"


def _success_now(metric: str) -> str:
    return f"{rate(metric, NOT_FAILED)}\n/\n{rate(metric)}"


def headline() -> Section:
    success_lines = [(slo.SUCCESS_RATE_MIN, "orange"), (slo.SUCCESS_RATE_TARGET, "green")]
    return Section(
        "Right now",
        [
            stat(
                "Success rate (time range)",
                query(_success_over_range()),
                unit="percentunit",
                lines=success_lines,
                base="red",
                decimals=1,
                description="Updates and jobs that did not fail, over all of them. Below "
                f"{pct(slo.SUCCESS_RATE_MIN)} for {slo.SUCCESS_RATE_FOR} pages (CsvbotSuccessRateLow); "
                f"the launch target is {pct(slo.SUCCESS_RATE_TARGET)}.",
                links=[runbook_link("CsvbotSuccessRateLow"), dashboard_link("database", "Database")],
            ),
            stat("Active users (15 min)", query(f"sum({sel('csvbot_active_users')})")),
            stat("Updates / s", query(rate("csvbot_updates_total")), unit="reqps", decimals=2),
            stat("Jobs / s", query(rate("csvbot_jobs_total")), unit="reqps", decimals=2),
            stat(
                "Queued jobs",
                query(f"max({sel('csvbot_job_queue_depth')})"),
                links=[dashboard_link("workers", "Workers")],
            ),
            stat(
                "Session limit",
                query(f"max({sel('csvbot_db_session_limit')})"),
                links=[dashboard_link("database", "Database")],
            ),
        ],
        height=5,
    )


def success() -> Section:
    return Section(
        "Success and traffic",
        [
            timeseries(
                "Success rate",
                [
                    query(_success_now("csvbot_updates_total"), "updates"),
                    query(_success_now("csvbot_jobs_total"), "jobs"),
                ],
                unit="percentunit",
                lines=[(slo.SUCCESS_RATE_MIN, "red")],
                max_value=1,
                description="Share of updates and of jobs whose outcome is not 'failed'. "
                "'rejected' (a bad file, a flood limit) counts as success: the service worked.",
                links=[runbook_link("CsvbotSuccessRateLow"), dashboard_link("database", "Database")],
            ),
            timeseries(
                "Updates / s by handler and outcome",
                [query(rate("csvbot_updates_total", by=("handler", "outcome")), "{{handler}} {{outcome}}")],
                unit="reqps",
                stacked=True,
            ),
            timeseries(
                "Jobs / s by outcome",
                [query(rate("csvbot_jobs_total", by=("outcome",)), "{{outcome}}")],
                unit="reqps",
                stacked=True,
                links=[dashboard_link("workers", "Workers")],
            ),
        ],
    )


def latency() -> Section:
    return Section(
        "Latency",
        [
            timeseries(
                "Command reply latency",
                quantile_targets("csvbot_update_duration_seconds", COMMANDS),
                unit="s",
                lines=[(slo.COMMAND_SLO.threshold_seconds, "orange"), (slo.SIMPLE_OP_P95_SECONDS, "red")],
                description=f"/start, /help, /jobs, /job. SLO: {_slo_text(slo.COMMAND_SLO)}; "
                f"launch forecast: p95 < {dur(slo.SIMPLE_OP_P95_SECONDS)}.",
                links=[runbook_link("CsvbotCommandErrorBudgetBurn")],
            ),
            timeseries(
                "Upload acknowledged latency",
                quantile_targets("csvbot_update_duration_seconds", UPLOADS),
                unit="s",
                lines=[(slo.UPLOAD_SLO.threshold_seconds, "red")],
                description="From the update arriving to the 'queued' reply. "
                f"SLO: {_slo_text(slo.UPLOAD_SLO)}.",
                links=[runbook_link("CsvbotUploadErrorBudgetBurn")],
            ),
            timeseries(
                "Upload → result latency",
                quantile_targets("csvbot_upload_to_result_seconds"),
                unit="s",
                lines=[(slo.RESULT_SLO.threshold_seconds, "red")],
                description=f"From receiving the upload to delivering the result. "
                f"Target: {_slo_text(slo.RESULT_SLO)}.",
                links=[dashboard_link("workers", "Workers")],
            ),
        ],
    )


def errors() -> Section:
    return Section(
        "Errors and SLOs",
        [
            timeseries(
                "Errors / s by component and kind (top 10)",
                [
                    query(
                        top(10, rate("csvbot_errors_total", by=("component", "kind"))),
                        "{{component}} {{kind}}",
                    )
                ],
                unit="reqps",
                stacked=True,
            ),
            table(
                "Errors in the time range (top 10)",
                [instant(top(10, increase_over_range("csvbot_errors_total", by=("component", "kind"))))],
            ),
            timeseries(
                "SLO error ratio (1 h) vs budget",
                [query(names.slo_error_ratio("1h"), "{{slo}}")],
                unit="percentunit",
                description="Share of commands/uploads slower than their SLO threshold or failed, "
                f"from the recording rules. Budgets: commands {pct(slo.COMMAND_SLO.error_budget)}, "
                f"uploads {pct(slo.UPLOAD_SLO.error_budget)}.",
                links=[
                    runbook_link("CsvbotCommandErrorBudgetBurn"),
                    runbook_link("CsvbotUploadErrorBudgetBurn"),
                ],
            ),
        ],
    )


def dashboard() -> dict[str, Any]:
    return build(
        "overview",
        "csvbot / Service overview",
        "Are users being served? Success rate, traffic, latency against the SLOs, errors by kind.",
        [headline(), success(), latency(), errors()],
    )
