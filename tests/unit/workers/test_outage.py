"""An outage the service outlives never uses up a job's attempts: a job whose attempts keep ending
in a storage outage is queued again — past JOB_MAX_ATTEMPTS — its user told that nothing needs
resending, and it succeeds once storage is back. An old job counts its attempts as usual."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.db import JobStatus
from service.errors import StorageUnavailableError
from service.workers import runner as runner_module
from telemetry import slo
from tests.unit.workers.conftest import JobWorld


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "retry_backoff", lambda *args: 0.0)


def _storage_down_for(world: JobWorld, monkeypatch: pytest.MonkeyPatch, attempts: int) -> None:
    download = world.storage.download_to_file
    left = [attempts]

    async def down_then_up(key: str, folder: Path) -> Any:
        if left[0] > 0:
            left[0] -= 1
            raise StorageUnavailableError("storage answered 503")
        return await download(key, folder)

    monkeypatch.setattr(world.storage, "download_to_file", down_then_up)


async def test_a_job_rides_out_an_outage_longer_than_its_attempts(
    world: JobWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    max_attempts = world.settings.job_max_attempts
    _storage_down_for(world, monkeypatch, attempts=max_attempts + 2)
    job = await world.job()
    runner = world.runner()
    told: list[str] = []
    for _ in range(max_attempts + 3):
        await runner.run(job.id, {})
        told.extend(world.texts())
        if (await world.repo.get_job(job.id)).status is not JobStatus.QUEUED:
            break
    row = await world.repo.get_job(job.id)
    assert row.status is JobStatus.DONE, row
    assert row.outage_retries == max_attempts + 2 and row.attempts == max_attempts + 3
    assert world.sample("csvbot_jobs_requeued_total", reason="outage") == max_attempts + 2
    assert any("no need to send it again" in t for t in told)
    assert not any("could not be completed" in t or "retrying (attempt" in t for t in told)
    assert len(world.documents()) == 2


async def test_an_old_job_counts_outage_attempts_as_usual(
    world: JobWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _storage_down_for(world, monkeypatch, attempts=100)
    job = await world.job()
    world.clock.advance(slo.JOB_OUTAGE_RIDE_OUT_SECONDS + 1)
    runner = world.runner()
    for _ in range(world.settings.job_max_attempts + 1):
        await runner.run(job.id, {})
    row = await world.repo.get_job(job.id)
    assert row.status is JobStatus.FAILED and row.attempts == world.settings.job_max_attempts
    assert row.outage_retries == 0
    assert any("could not be completed" in t for t in world.texts())
