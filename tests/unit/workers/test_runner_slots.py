"""The job runner: at most WORKER_CONCURRENCY jobs at once, drained at shutdown, and no job lost
when it cannot be claimed."""

from __future__ import annotations

import asyncio
from typing import Any

from service.config import load_settings
from service.db import Job, JobStatus, utc_now
from service.deps import Services
from service.errors import PoolExhaustedError
from service.workers.runner import JobRunner
from telemetry.metrics import Metrics
from telemetry.server import HealthState


def _runner(metrics: Metrics, concurrency: int) -> JobRunner:
    settings = load_settings({"WORKER_CONCURRENCY": str(concurrency)}, env_file=None)
    services = Services(
        settings=settings, metrics=metrics, repo=None, storage=None, enqueue=None, health=HealthState()
    )  # type: ignore[arg-type]
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


class _FlakyRepo:
    """claim_job raises PoolExhaustedError ``failures`` times, then finds nothing to claim."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def claim_job(self, job_id: str, lease_seconds: float) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise PoolExhaustedError("all sessions busy")

    async def get_job(self, job_id: str) -> Job:
        """Running elsewhere: not claimable and nothing to redeliver."""
        now = utc_now()
        return Job(job_id, 1, 1, "f.csv", 1, JobStatus.RUNNING, 1, now, now)


def _runner_with(metrics: Metrics, repo: object, kicked: list[str]) -> JobRunner:
    settings = load_settings({}, env_file=None)

    async def kick(job_id: str, carrier: dict[str, str]) -> None:
        kicked.append(job_id)

    services = Services(
        settings=settings, metrics=metrics, repo=repo, storage=None, enqueue=kick, health=HealthState()
    )  # type: ignore[arg-type]
    return JobRunner(services, bot=None, kick=kick, lease_seconds=60)  # type: ignore[arg-type]


async def test_a_busy_pool_at_claim_time_is_ridden_out(metrics: Metrics, monkeypatch: Any) -> None:
    monkeypatch.setattr("service.workers.runner.CLAIM_BACKOFF_CAP_SECONDS", 0.01)
    repo, kicked = _FlakyRepo(failures=2), []
    await _runner_with(metrics, repo, kicked).run("job1", {})
    assert repo.calls == 3 and kicked == []


async def test_a_job_that_cannot_be_claimed_goes_back_on_the_queue(
    metrics: Metrics, monkeypatch: Any
) -> None:
    """Losing the task would leave the job queued forever: no reaper revisits queued jobs."""
    monkeypatch.setattr("service.workers.runner.CLAIM_BACKOFF_CAP_SECONDS", 0.01)
    repo, kicked = _FlakyRepo(failures=100), []
    await _runner_with(metrics, repo, kicked).run("job1", {})
    assert repo.calls == 5 and kicked == ["job1"]
    assert metrics.registry.get_sample_value("csvbot_jobs_requeued_total", {"reason": "retry"}) == 1
