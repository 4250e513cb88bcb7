"""`csvbot simulate` on configured backends: PostgreSQL, Redis and separate worker processes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.console import Console

from service.config import load_settings
from simulate.command import simulate_once
from simulate.scenarios import SCENARIOS

pytestmark = pytest.mark.integration


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.timeout(180)
async def test_a_simulation_on_postgres_and_redis_runs_worker_processes_and_passes(
    database_dsn: str, fresh_stream: str
) -> None:
    settings = load_settings({"DATABASE_URL": database_dsn, "REDIS_URL": fresh_stream}, env_file=None)
    scenario = replace(SCENARIOS["launch"], duration=8.0, rate=3.0, users=100, drain=15.0)
    report = await simulate_once(
        scenario, settings, seed=11, metrics_port=None, live=False, console=Console(quiet=True)
    )
    assert report.jobs_queued >= 1, "the scenario must upload something"
    # Results can only arrive through the separate worker processes: the bot has no in-process
    # worker when REDIS_URL is set.
    assert report.ops["upload_result"].outcomes.get("ok", 0) >= 1
    assert all(n == 1 for n in report.results_per_job.values())
    assert report.verdict == "pass", report.checks
