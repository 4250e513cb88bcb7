"""What the operator watches while a simulation runs, and the final report table."""

from __future__ import annotations

import time

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from simulate.driver import RunState
from simulate.report import OPS, Report, percentile
from telemetry.metrics import Metrics


def _fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


class LiveStatus:
    """A snapshot of the run, rendered as a small table (rich.Live) or a plain line (logs, CI)."""

    def __init__(self, state: RunState, metrics: Metrics, users: int, duration: float) -> None:
        self.state = state
        self.metrics = metrics
        self.users = users
        self.duration = duration
        self.started = time.monotonic()
        self.max_loop_lag = 0.0

    def sample(self) -> None:
        lag = self.metrics.registry.get_sample_value("csvbot_event_loop_lag_max_seconds") or 0.0
        self.max_loop_lag = max(self.max_loop_lag, lag)

    def _numbers(self) -> dict[str, str]:
        s = self.state
        done = len(s.samples)
        ok = sum(1 for x in s.samples if x.outcome == "ok")
        cmd = [x.latency for x in s.samples if x.op == "command" and x.outcome != "timeout"]
        acc = [x.latency for x in s.samples if x.op == "upload_accepted" and x.outcome != "timeout"]
        res = [x.latency for x in s.samples if x.op == "upload_result" and x.outcome != "timeout"]
        return {
            "elapsed": f"{time.monotonic() - self.started:.0f} / {self.duration:.0f} s",
            "users": f"{self.users:,}",
            "actions": f"{s.arrivals} started, {s.in_flight} in flight, {done} steps measured",
            "success": _fmt_pct(ok / done if done else None),
            "p95 command": _fmt_s(percentile(cmd, 0.95)),
            "p95 upload accepted": _fmt_s(percentile(acc, 0.95)),
            "p95 upload → result": _fmt_s(percentile(res, 0.95)),
            "jobs in flight": f"{self.metrics.registry.get_sample_value('csvbot_jobs_in_flight') or 0:.0f}",
            "loop lag (max)": f"{self.max_loop_lag * 1000:.0f} ms",
        }

    def render(self) -> Table:
        table = Table(title="csvbot simulate", show_header=False, min_width=60)
        for key, value in self._numbers().items():
            table.add_row(key, value)
        return table

    def line(self) -> str:
        return " | ".join(f"{k} {v}" for k, v in self._numbers().items())


def render_report(report: Report, console: Console) -> None:
    ops = Table(title=f"Scenario {report.scenario}: user-facing operations")
    for col in ("operation", "count", "success", "p50", "p95", "p99", "outcomes"):
        ops.add_column(col)
    for op in OPS:
        st = report.ops[op]
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(st.outcomes.items()))
        ops.add_row(
            op,
            str(st.count),
            _fmt_pct(st.success_rate),
            _fmt_s(st.p50),
            _fmt_s(st.p95),
            _fmt_s(st.p99),
            outcomes,
        )

    storage = Table(title="Storage (from csvbot_storage_request_duration_seconds)")
    for col in ("operation", "calls", "p50", "p95", "p99"):
        storage.add_column(col)
    for name, row in sorted(report.storage.items()):
        storage.add_row(
            name, f"{row['count']:.0f}", _fmt_s(row["p50"]), _fmt_s(row["p95"]), _fmt_s(row["p99"])
        )

    service = Table(title="Service internals", show_header=False)
    service.add_row(
        "storage timeouts / retries", f"{report.storage_timeouts:.0f} / {report.storage_retries:.0f}"
    )
    service.add_row("db pool wait p95", _fmt_s(report.pool_wait_p95))
    service.add_row("db pool acquire timeouts", f"{report.pool_acquire_timeouts:.0f}")
    lag99 = "-" if report.loop_lag_p99 is None else f"{report.loop_lag_p99 * 1000:.1f} ms"
    service.add_row("event-loop lag p99 / max", f"{lag99} / {report.loop_lag_max * 1000:.0f} ms")
    service.add_row("log records dropped", f"{report.log_records_dropped:.0f}")
    service.add_row("uploads / jobs queued", f"{report.uploads} / {report.jobs_queued}")

    timeline = Table(
        title=(
            f"Session limit ({report.settings.get('database_model', report.settings.get('database'))}, "
            f"SESSION_LIMIT_TUNING={report.settings.get('session_limit_tuning', 'off')})"
        )
    )
    for col in ("at", "limit", "source", "reason"):
        timeline.add_column(col)
    timeline.add_row("start", str(report.settings.get("session_limit_start", "-")), "", "")
    for change in report.limit_timeline:
        timeline.add_row(
            f"{change['at_seconds']:.1f} s",
            f"{change['previous']} → {change['session_limit']}",
            change["source"],
            str(change["reason"]),
        )
    end = str(report.settings.get("session_limit", "-"))
    timeline.add_row("end", end, "", f"{report.limit_refusals} decisions to hold it")

    checks = Table(title="SLO verdict", show_header=False)
    for name, ok in report.checks.items():
        checks.add_row(Text("PASS" if ok else "FAIL", style="green" if ok else "bold red"), name)
    parts: list[Table | Text] = [ops, storage, service, timeline, checks]
    verdict_style = "bold green" if report.verdict == "pass" else "bold red"
    parts.append(Text(f"verdict: {report.verdict.upper()}", style=verdict_style))
    for hint in report.hints:
        parts.append(Text(f"hint: {hint}", style="yellow"))
    console.print(Group(*parts))
