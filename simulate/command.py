"""``csvbot simulate``: run a scenario (or a capacity search) and print the report.

Exit status 0 when the verdict is a pass, 1 when it fails (so a deploy can be gated on it),
2 for a configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from service.config import Settings
from simulate.driver import JOB_ID, Workload
from simulate.harness import Harness
from simulate.limit_timeline import limit_timeline, refusals
from simulate.live import LiveStatus, render_report
from simulate.report import Report, build_report
from simulate.saturation import CpuMeter, PoolSampler, describe, pressures
from simulate.scenarios import Scenario, scenario_from_args
from simulate.scrape import write_scrape_file
from telemetry import slo

#: One simulation step: ``simulate_once`` or its --separate-driver counterpart.
Step = Callable[..., Coroutine[Any, Any, Report]]

#: Capacity search: each step's rate is this factor above the last.
CAPACITY_STEP = 1.5
#: A simulated *active* user acts about once a minute, so rate × 60 is the active-user count.
ACTIONS_PER_ACTIVE_USER_PER_SECOND = 1 / 60


async def simulate_once(
    scenario: Scenario,
    settings: Settings,
    *,
    seed: int,
    metrics_port: int | None,
    live: bool,
    console: Console,
    scrape_file: Path | None = None,
) -> Report:
    async with Harness(scenario, settings, seed=seed, metrics_port=metrics_port) as h:
        assert h.telemetry is not None and h.app is not None and h.app.repo is not None
        console.print(f"metrics: {h.endpoints.describe()}")
        if scrape_file is not None and h.endpoints.targets():
            write_scrape_file(scrape_file, h.endpoints)
            console.print(f"Prometheus scrape file: {scrape_file} (prometheus --config.file={scrape_file})")
        started = datetime.now(UTC)
        workload = Workload(scenario, h.emulator, seed)
        status = LiveStatus(workload.state, h.telemetry.metrics, scenario.users, scenario.duration)
        # One process holds users, emulator, bot and worker: its CPU is all of them.
        meter = CpuMeter({"simulator (users, emulator, bot, worker)": os.getpid()})
        pool = PoolSampler()
        meter.start()
        run = asyncio.get_running_loop().create_task(workload.run())
        if live:
            with Live(status.render(), console=console, refresh_per_second=4, transient=False) as view:
                while not run.done():
                    status.sample()
                    pool.sample_every(h.telemetry.metrics.registry, 10)
                    view.update(status.render())
                    await asyncio.sleep(0.5)
        else:
            ticks = 0
            while not run.done():
                status.sample()
                pool.sample_every(h.telemetry.metrics.registry, 10)
                await asyncio.sleep(0.5)
                ticks += 1
                if ticks % 10 == 0:
                    console.print(status.line())
        await run
        status.sample()
        cpu = meter.stop()
        report = build_report(
            scenario,
            workload.state,
            h.telemetry.metrics.registry,
            session_limit=h.app.repo.session_limit,
            session_limit_max=h.app.repo.session_limit_ceiling,
            # The latency model behaves like PostgreSQL's pool: judge (and hint) it as one.
            database="postgres-model"
            if h.app.repo.tunable and h.app.repo.backend == "sqlite"
            else h.app.repo.backend,
            loop_lag_max=status.max_loop_lag,
            results_per_job=results_per_job(h, workload),
        )
        report.cpu_cores = cpu
        report.saturation = pressures(
            cpu,
            pool_share=pool.share,
            pool_size=h.settings.worker_concurrency if h.settings else 0,
            db_wait_p95=report.pool_wait_p95,
            loop_lag_p99=report.loop_lag_p99,
        )
        report.metrics_endpoints = h.endpoints.to_json()
        report.settings["database_model"] = h.database_description
        report.settings["session_limit_tuning"] = settings.session_limit_tuning
        report.settings["session_limit_start"] = scenario.session_limit or settings.supabase_session_limit
        report.limit_timeline = await limit_timeline(h.app.repo, started=started)
        report.limit_refusals = refusals(h.telemetry.metrics.registry)
        return report


def results_per_job(h: Harness, workload: Workload) -> dict[str, int]:
    """For every queued upload, how many final answers (result document or failure) it got.

    Documents that reply to a message are ``/job``'s answer to a user asking for the results
    again, not deliveries: a user who asked twice got what they asked for, not a duplicate.
    """
    counts = dict.fromkeys(workload.state.jobs, 0)
    for user in workload.user_jobs:
        for entry in h.emulator.bot_messages(user):
            is_result = entry.document is not None and entry.caption and entry.reply_to_message_id is None
            is_failure = "could not be completed" in entry.content
            if not (is_result or is_failure):
                continue
            match = JOB_ID.search(entry.content)
            if match and match.group(1) in counts:
                counts[match.group(1)] += 1
    return counts


def run_simulate(settings: Settings, args: argparse.Namespace) -> int:
    console = Console(stderr=False)
    live = not args.no_live and console.is_terminal
    scenario = scenario_from_args(args)
    port = args.metrics_port if args.metrics_port is not None else settings.metrics_port
    console.print(
        f"[bold]csvbot simulate[/bold] — scenario [cyan]{scenario.name}[/cyan]: {scenario.description}"
    )
    if args.find_capacity:
        return asyncio.run(_find_capacity(scenario, settings, args, console, port))
    scrape_file = Path(args.report).with_suffix(".prometheus.yml")
    report = asyncio.run(
        _step(args)(
            scenario,
            settings,
            seed=args.seed,
            metrics_port=port,
            live=live,
            console=console,
            scrape_file=scrape_file,
        )
    )
    render_report(report, console)
    console.print(f"saturated first: {describe(report.saturation)}")
    _write_json(args.report, report.to_json())
    console.print(f"JSON report: {args.report}")
    return 0 if report.verdict == "pass" else 1


async def _find_capacity(
    base: Scenario, settings: Settings, args: argparse.Namespace, console: Console, port: int
) -> int:
    """Step the arrival rate up until the SLO breaks; report the highest sustained rate."""
    duration = args.duration if args.duration is not None else 30.0
    rate = args.rate if args.rate is not None else 1.0
    steps: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    failing: Report | None = None
    for _ in range(12):
        scenario = replace(base, rate=rate, duration=duration, drain=20.0)
        console.print(f"step: {rate:.2f} actions/s for {duration:.0f} s …")
        report = await _step(args)(
            scenario, settings, seed=args.seed, metrics_port=port, live=False, console=console
        )
        row = _step_row(rate, report)
        steps.append(row)
        console.print(
            f"  → success {row['success_rate']}, command p95 {row['command_p95']}, "
            f"upload p95 {row['upload_accepted_p95']}, verdict {report.verdict}"
        )
        row["saturation"] = report.saturation
        console.print(f"  → saturated first: {describe(report.saturation)}")
        if report.verdict != "pass":
            failing = report
            break
        best = row
        rate *= CAPACITY_STEP
    table = Table(title="Capacity search")
    for col in ("actions/s", "actions/min", "success", "command p95", "upload p95", "result p95", "verdict"):
        table.add_column(col)
    for row in steps:
        table.add_row(
            f"{row['rate']:.2f}",
            f"{row['rate'] * 60:.0f}",
            row["success_rate"],
            row["command_p95"],
            row["upload_accepted_p95"],
            row["upload_result_p95"],
            row["verdict"],
        )
    console.print(table)
    summary: dict[str, Any] = {"steps": steps, "sustained": best}
    if best is not None:
        users = best["rate"] / ACTIONS_PER_ACTIVE_USER_PER_SECOND
        console.print(
            f"highest sustained rate: {best['rate']:.2f} actions/s ({best['rate'] * 60:.0f}/min), "
            f"≈ {users:,.0f} active users at one action per user per minute"
        )
        summary["active_users"] = users
    if failing is not None:
        bottleneck = saturated_resource(failing)
        console.print(f"first to saturate: {bottleneck}")
        console.print(f"pressures at the failing step: {describe(failing.saturation, 4)}")
        summary["saturated_first"] = bottleneck
        summary["failing_hints"] = failing.hints
    _write_json(args.report, summary)
    console.print(f"JSON report: {args.report}")
    return 0 if best is not None else 1


def _step(args: argparse.Namespace) -> Step:
    """One step in one process, or with the service in processes of its own (--separate-driver)."""
    if not getattr(args, "separate_driver", False):
        return simulate_once

    async def separate(
        scenario: Scenario,
        settings: Settings,
        *,
        seed: int,
        metrics_port: int | None,
        live: bool,
        console: Console,
        scrape_file: Path | None = None,
    ) -> Report:
        from simulate.separate_run import simulate_separate

        return await simulate_separate(
            scenario, settings, seed=seed, live=live, console=console, scrape_file=scrape_file
        )

    return separate


def saturated_resource(report: Report) -> str:
    """The resource furthest past its threshold in a failing step."""
    pressures = {
        "database pool (waits p95 vs threshold)": (report.pool_wait_p95 or 0) / slo.POOL_WAIT_P95_MAX_SECONDS,
        "event loop / CPU (lag p99 vs threshold)": (report.loop_lag_p99 or 0)
        / slo.EVENT_LOOP_LAG_P99_WARN_SECONDS,
        "storage (timeouts)": report.storage_timeouts,
        "workers (upload → result p95 vs upload SLO)": (report.ops["upload_result"].p95 or 0)
        / slo.UPLOAD_P95_SECONDS,
    }
    name, value = max(pressures.items(), key=lambda kv: kv[1])
    return f"{name}: {value:.2f}× its threshold" if value > 0 else "none measured"


def _step_row(rate: float, report: Report) -> dict[str, Any]:
    def s(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}s"

    rate_ok = report.overall_success_rate
    return {
        "rate": rate,
        "success_rate": "-" if rate_ok is None else f"{rate_ok:.1%}",
        "command_p95": s(report.ops["command"].p95),
        "upload_accepted_p95": s(report.ops["upload_accepted"].p95),
        "upload_result_p95": s(report.ops["upload_result"].p95),
        "verdict": report.verdict,
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    except OSError as exc:
        print(f"csvbot: could not write the report to {path}: {exc}", file=sys.stderr)
