"""The job runner works on at most WORKER_CONCURRENCY jobs at once and drains them at shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from service.config import load_settings
from service.deps import Services
from service.workers.runner import JobRunner
from telemetry.metrics import Metrics
from telemetry.server import HealthState


def _runner(metrics: Metrics, concurrency: int) -> JobRunner:
    settings = load_settings({"WORKER_CONCURRENCY": str(concurrency)}, env_file=None)
    services = Services(settings, metrics, repo=None, storage=None, enqueue=None, health=HealthState())  # type: ignore[arg-type]
    return JobRunner(services, bot=None, kick=None, lease_seconds=60)  # type: ignore[arg-type]


async def test_no_more_than_worker_concurrency_jobs_run_at_once(metrics: Metrics, monkeypatch: Any) -> None:
    runner = _runner(metrics, concurrency=2)
    running = peak = 0

    async def fake_run(job_id: str, carrier: dict[str, str]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1

    monkeypatch.setattr(runner, "_run", fake_run)
    await asyncio.gather(*(runner.run(f"job{i}", {}) for i in range(7)))
    assert peak == 2


async def test_drain_waits_for_quick_jobs_and_cancels_stuck_ones(metrics: Metrics, monkeypatch: Any) -> None:
    runner = _runner(metrics, concurrency=4)
    finished: list[str] = []

    async def fake_run(job_id: str, carrier: dict[str, str]) -> None:
        await asyncio.sleep(0.05 if job_id == "quick" else 60)
        finished.append(job_id)

    monkeypatch.setattr(runner, "_run", fake_run)
    quick = asyncio.create_task(runner.run("quick", {}))
    stuck = asyncio.create_task(runner.run("stuck", {}))
    await asyncio.sleep(0.01)
    await runner.drain(grace_seconds=0.3)
    assert quick.done() and not quick.cancelled() and finished == ["quick"]
    assert stuck.cancelled()
