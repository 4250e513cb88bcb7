"""``--separate-driver``: the service runs in processes of its own and the report still adds up."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from service.config import load_settings
from simulate.scenarios import SCENARIOS
from simulate.separate_run import simulate_separate

pytestmark = pytest.mark.integration


async def test_a_separate_bot_process_serves_the_load_and_its_metrics_reach_the_report(
    tmp_path: Path,
) -> None:
    scenario = replace(SCENARIOS["launch"], duration=4.0, rate=4.0, users=100, drain=15.0)
    scrape_file = tmp_path / "run.prometheus.yml"
    report = await simulate_separate(
        scenario,
        load_settings({}, env_file=None),
        seed=3,
        live=False,
        console=Console(quiet=True),
        scrape_file=scrape_file,
    )
    assert report.ops["command"].count + report.ops["upload_accepted"].count == report.arrivals > 0
    assert report.results_per_job and all(n == 1 for n in report.results_per_job.values())
    assert report.verdict == "pass", report.checks
    # The service's own metrics came from the bot process's /metrics, not from this process.
    # (every queued upload was stored once by the bot before its job ran)
    assert report.storage["upload_file"]["count"] >= report.jobs_queued > 0
    assert report.loop_lag_p99 is not None
    # CPU was measured per process, and the bot is not this process.
    assert {"bot", "driver"} <= set(report.cpu_cores)
    assert report.saturation and all(v >= 0 for v in report.saturation.values())
    # The bot process's /metrics is in the report and in a scrape file Prometheus can load.
    [bot_url] = report.metrics_endpoints["csvbot-bot"]
    scraped = yaml.safe_load(scrape_file.read_text())
    [bot_job] = [c for c in scraped["scrape_configs"] if c["job_name"] == "csvbot-bot"]
    assert bot_job["static_configs"][0]["targets"] == [
        bot_url.removeprefix("http://").removesuffix("/metrics")
    ]
