"""Short simulations of the real service on embedded defaults: the report adds up and tells the truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from service.config import load_settings
from simulate.command import simulate_once
from simulate.driver import Workload
from simulate.harness import Harness
from simulate.scenarios import SCENARIOS, Faults
from telemetry.metrics import allowed_values_for

pytestmark = pytest.mark.integration


def _undeclared_label_values(registry) -> list[str]:
    bad = []
    for family in registry.collect():
        if not family.name.startswith("csvbot_"):
            continue
        for sample in family.samples:
            for label, value in sample.labels.items():
                allowed = None if label == "le" else allowed_values_for(family.name, label)
                if allowed is not None and value not in allowed:
                    bad.append(f"{family.name}{{{label}={value!r}}}")
    return bad


def _settings():
    return load_settings({}, env_file=None)


def _quick(name: str, **changes):
    return replace(SCENARIOS[name], duration=6.0, rate=4.0, users=200, drain=10.0, **changes)


async def test_counts_add_up_and_every_upload_gets_exactly_one_result() -> None:
    report = await simulate_once(
        _quick("launch"), _settings(), seed=7, metrics_port=None, live=False, console=Console(quiet=True)
    )
    commands = report.ops["command"].count
    accepted = report.ops["upload_accepted"].count
    assert commands + accepted == report.arrivals, "every arrival is one measured first step"
    assert accepted == report.uploads
    assert report.jobs_queued == report.ops["upload_result"].count
    assert report.results_per_job and all(n == 1 for n in report.results_per_job.values())
    assert report.verdict == "pass", report.checks


async def test_injected_storage_hangs_show_up_as_timeouts_in_the_report_and_in_metrics() -> None:
    scenario = _quick(
        "storage-hang", faults=Faults(storage_hang_rate=0.3), storage_timeout=1.0, storage_slow=0.5
    )
    async with Harness(scenario, _settings(), seed=3, metrics_port=0) as h:
        assert h.telemetry is not None and h.telemetry.server is not None
        await Workload(scenario, h.emulator, seed=3).run()
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(f"{h.telemetry.server.url}/metrics")).text
        undeclared = _undeclared_label_values(h.telemetry.metrics.registry)
    # The retry paths the hangs exercised used only declared label values.
    assert not undeclared, undeclared
    timeouts = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("csvbot_storage_timeouts_total{")
    )
    assert timeouts >= 1, "hangs must be counted as timeouts on /metrics"
    assert h.storage_server is not None and h.storage_server.request_count(status="hang") >= 1


async def test_a_429_storm_loses_no_replies() -> None:
    scenario = _quick("telegram-flood", faults=Faults(telegram_429_rate=0.5))
    report = await simulate_once(
        scenario, _settings(), seed=5, metrics_port=None, live=False, console=Console(quiet=True)
    )
    for op in ("command", "upload_accepted", "upload_result"):
        assert report.ops[op].outcomes.get("timeout", 0) == 0, f"{op} lost replies: {report.ops[op].outcomes}"
    assert report.ops["command"].success_rate == 1.0
    # Replies waited out retry_after=1 s: some commands must have taken at least that long.
    assert (report.ops["command"].p95 or 0) >= 1.0


def test_cli_gates_on_the_verdict_and_prints_a_tuning_hint(tmp_path: Path) -> None:
    """A broken storage fails the verdict: exit status 1, a hint, and the JSON report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE_", "DATABASE_", "REDIS_"))}
    report_path = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "service",
            "simulate",
            "--no-live",
            "--duration",
            "5",
            "--rate",
            "4",
            "--users",
            "100",
            "--storage-error-rate",
            "1.0",
            "--metrics-port",
            "0",
            "--report",
            str(report_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "verdict: FAIL" in proc.stdout
    assert "hint:" in proc.stdout
    data = json.loads(report_path.read_text())
    assert data["verdict"] == "fail"
    assert data["overall_success_rate"] < 0.95


def _simulate_cli(tmp_path: Path, tuning: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "DATABASE_", "REDIS_", "SESSION_"))
    }
    env["SESSION_LIMIT_TUNING"] = tuning
    report_path = tmp_path / f"pool-starved-{tuning}.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "service",
            "simulate",
            "--no-live",
            "--scenario",
            "pool-starved",
            "--duration",
            "20",
            "--metrics-port",
            "0",
            "--report",
            str(report_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc, json.loads(report_path.read_text())


@pytest.mark.timeout(320)
def test_pool_starved_on_the_embedded_defaults_fails_without_tuning(tmp_path: Path) -> None:
    """The scenario's PostgreSQL-like session model (SQLite underneath) really starves the pool."""
    proc, data = _simulate_cli(tmp_path, "off")
    print(proc.stdout[-3000:])
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "PostgreSQL-like model" in data["settings"]["database_model"]
    assert data["pool_wait_p95"] > 0.5 and data["verdict"] == "fail"
    assert data["limit_timeline"] == [] and data["settings"]["session_limit"] == 4
    assert any("raise SUPABASE_SESSION_LIMIT 4 → 5" in hint for hint in data["hints"]), data["hints"]


@pytest.mark.timeout(320)
def test_pool_starved_passes_with_adaptive_tuning_and_shows_each_step_with_its_reason(tmp_path: Path) -> None:
    proc, data = _simulate_cli(tmp_path, "adaptive")
    print(proc.stdout[-3000:])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    timeline = data["limit_timeline"]
    assert timeline and (timeline[0]["previous"], timeline[0]["session_limit"]) == (4, 5), timeline
    assert all(step["source"] == "adaptive" and "bottleneck" in step["reason"] for step in timeline)
    assert data["settings"]["session_limit"] >= 5
    assert "4 → 5" in proc.stdout and data["settings"]["session_limit_tuning"] == "adaptive"
