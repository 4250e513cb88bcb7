"""Fencing: a worker whose claim is no longer current stops, logs why, counts it, and sends the
user nothing — the worker that holds the job now is the only one that speaks for it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from service.db import Job, JobStatus
from service.errors import StorageNotFoundError, StorageUnavailableError
from tests.unit.workers.conftest import JobWorld


async def _take_over(world: JobWorld, job: Job) -> Job:
    """What another worker does once this one's lease has expired (it stalled)."""
    world.clock.advance(world.settings.job_lease_seconds + 1)
    taken = await world.repo.claim_job(job.id, world.settings.job_lease_seconds)
    assert taken is not None and taken.attempts == 2
    return taken


def _assert_silent(world: JobWorld) -> None:
    assert world.documents() == []
    assert not any("could not be completed" in t or "retrying" in t for t in world.texts())


async def test_a_stale_owner_cannot_finish_and_sends_nothing(
    world: JobWorld, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    job = await world.job()
    upload = world.storage.upload_file
    taken: list[Job] = []

    async def stalls_then_uploads(*args: Any, **kwargs: Any) -> Any:
        if not taken:
            taken.append(await _take_over(world, job))
        return await upload(*args, **kwargs)

    monkeypatch.setattr(world.storage, "upload_file", stalls_then_uploads)
    with caplog.at_level(logging.WARNING):
        await world.runner().run(job.id, {})
    _assert_silent(world)
    row = await world.repo.get_job(job.id)
    assert row.status is JobStatus.RUNNING and row.attempts == 2, "the new owner's job is untouched"
    assert world.sample("csvbot_job_writes_fenced_total", write="finish") == 1
    assert world.sample("csvbot_jobs_total", outcome="ok") == 0
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "job_fenced"]
    assert record.levelno == logging.WARNING and record.job_id == job.id  # type: ignore[attr-defined]


async def test_a_stale_owner_cannot_fail_or_requeue_the_job(world: JobWorld, monkeypatch: Any) -> None:
    job = await world.job()

    async def stalls_then_fails(*args: Any, **kwargs: Any) -> Any:
        await _take_over(world, job)
        raise StorageUnavailableError("storage down")

    monkeypatch.setattr(world.storage, "download_to_file", stalls_then_fails)
    await world.runner().run(job.id, {})
    _assert_silent(world)
    row = await world.repo.get_job(job.id)
    assert row.status is JobStatus.RUNNING and row.error_kind is None
    assert world.kicks.kicked == [], "a refused retry queues nothing"
    assert world.sample("csvbot_job_writes_fenced_total", write="fail") == 1


async def test_a_refused_lease_renewal_stops_the_job_at_once(world: JobWorld, monkeypatch: Any) -> None:
    job = await world.job()
    stalled = asyncio.Event()

    async def hangs(*args: Any, **kwargs: Any) -> Any:
        stalled.set()
        await asyncio.sleep(60)

    monkeypatch.setattr(world.storage, "download_to_file", hangs)
    runner = world.runner()
    runner.lease_seconds = 0.3  # renewals every 0.1 s
    task = asyncio.create_task(runner.run(job.id, {}))
    await asyncio.wait_for(stalled.wait(), 10)
    await _take_over(world, job)
    await asyncio.wait_for(task, 10)  # ends on its own, long before the 60 s download
    assert not task.cancelled()
    _assert_silent(world)
    assert world.sample("csvbot_job_writes_fenced_total", write="renew") == 1
    assert (await world.repo.get_job(job.id)).attempts == 2


async def test_a_job_cancelled_while_a_stage_runs_stops_as_cancelled_not_fenced(
    world: JobWorld, monkeypatch: Any, tmp_path: Path
) -> None:
    """A cancel ends the row, so the next lease renewal is refused: that stops the job at once
    (no waiting for the stage to end), as cancelled — its files removed, the user told — and is
    not counted as a lost claim."""
    job = await world.job()
    stalled = asyncio.Event()

    async def hangs(*args: Any, **kwargs: Any) -> Any:
        stalled.set()
        await asyncio.sleep(60)

    monkeypatch.setattr(world.storage, "download_to_file", hangs)
    runner = world.runner()
    runner.lease_seconds = 0.3  # renewals every 0.1 s
    task = asyncio.create_task(runner.run(job.id, {}))
    await asyncio.wait_for(stalled.wait(), 10)
    assert await world.repo.cancel_job(job.id, world.user.id) is not None
    await asyncio.wait_for(task, 10)  # ends on its own, long before the 60 s download
    assert world.documents() == []
    assert any("cancelled" in t for t in world.texts()), world.texts()
    assert world.sample("csvbot_job_writes_fenced_total", write="renew") == 0
    assert world.sample("csvbot_jobs_total", outcome="rejected") == 1
    monkeypatch.undo()
    with pytest.raises(StorageNotFoundError):  # the cancelled job's input is deleted
        await world.storage.download_to_file(job.input_key or "", tmp_path)
