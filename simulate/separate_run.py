"""One simulation step with the service in its own processes (``--separate-driver``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from rich.console import Console
from rich.live import Live

from service.config import Settings
from simulate.driver import Workload
from simulate.live import LiveStatus
from simulate.report import Report, build_report
from simulate.saturation import DRIVER, CpuMeter, PoolSampler, pressures
from simulate.scenarios import Scenario
from simulate.scrape import write_scrape_file
from simulate.separate import SeparateHarness
from telemetry.metrics import Metrics

#: How often the service's metrics are scraped during a step (the live view and the pool sampler).
#: Not more often: one scrape of csvbot's ~2,500 series costs the bot 30-100 ms of CPU, held
#: under the GIL (Prometheus itself scrapes every 15 s).
SCRAPE_INTERVAL_SECONDS = 5.0


async def simulate_separate(
    scenario: Scenario,
    settings: Settings,
    *,
    seed: int,
    live: bool,
    console: Console,
    telemetry: str | None = None,
    command: Sequence[str] | None = None,
    workers: int = 2,
    scrape_file: Path | None = None,
) -> Report:
    async with SeparateHarness(
        scenario, settings, seed=seed, telemetry=telemetry, command=command, workers=workers
    ) as h:
        assert h.settings is not None
        console.print(f"metrics: {h.endpoints.describe()}")
        if scrape_file is not None and h.endpoints.targets():
            write_scrape_file(scrape_file, h.endpoints)
            console.print(f"Prometheus scrape file: {scrape_file} (prometheus --config.file={scrape_file})")
        workload = Workload(scenario, h.emulator, seed)
        # LiveStatus reads ``metrics.registry``; the scraped registry answers the same calls.
        status = LiveStatus(workload.state, cast(Metrics, h.metrics), scenario.users, scenario.duration)
        meter = CpuMeter({DRIVER: os.getpid(), **{role: p.pid for role, p in h.processes.items()}})
        pool = PoolSampler()
        meter.start()
        run = asyncio.get_running_loop().create_task(workload.run())
        ticks = 0
        with Live(status.render(), console=console, refresh_per_second=2) if live else _nothing() as view:
            while not run.done():
                await asyncio.wait({run}, timeout=SCRAPE_INTERVAL_SECONDS)
                await h.metrics.refresh()
                status.sample()
                pool.sample(h.metrics.registry)
                ticks += 1
                if view is not None:
                    view.update(status.render())
                elif ticks % 5 == 0:
                    console.print(status.line())
        await run
        cpu = meter.stop()
        await h.metrics.refresh()
        status.sample()
        from simulate.command import results_per_job

        report = build_report(
            scenario,
            workload.state,
            h.metrics.registry,  # type: ignore[arg-type]  # scraped: the same collect() interface
            session_limit=h.settings.supabase_session_limit,
            session_limit_max=h.settings.supabase_session_limit_max,
            database="postgres" if h.settings.uses_postgres else "sqlite",
            loop_lag_max=status.max_loop_lag,
            results_per_job=results_per_job(h, workload),  # type: ignore[arg-type]
        )
        report.saturation = pressures(
            cpu,
            pool_share=pool.share,
            pool_size=h.settings.worker_concurrency,
            db_wait_p95=report.pool_wait_p95 if h.has_service_metrics else None,
            loop_lag_p99=report.loop_lag_p99 if h.has_service_metrics else None,
        )
        report.cpu_cores = cpu
        report.metrics_endpoints = h.endpoints.to_json()
        return report


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
