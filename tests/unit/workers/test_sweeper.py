"""The sweeper and the reaper: every way a job used to be stranded is recovered from its row."""

from __future__ import annotations

import asyncio
from typing import Any

from service.db import JobStatus
from service.errors import StorageUnavailableError
from service.workers.reaper import Reaper
from tests.unit.workers.conftest import JobWorld

STALE = 60.0


def _reaper(world: JobWorld, **sweeper: Any) -> Reaper:
    return Reaper(
        world.services, world.bot, world.kicks, heartbeat_file=None, sweeper=world.sweeper(**sweeper)
    )


async def test_a_failed_kick_in_the_reaper_is_retried_next_tick_and_skips_nothing(world: JobWorld) -> None:
    """Two leases expire; the kick of the first fails once. The second is kicked on the same
    tick, the first on the next one — neither is left queued without a task."""
    first, second = await world.job(), await world.job()
    for job in (first, second):
        assert await world.repo.claim_job(job.id, 5) is not None
    world.clock.advance(6)
    world.kicks.fail_ids = {first.id}
    reaper = _reaper(world)
    await reaper.tick()
    assert world.kicks.kicked == [second.id]
    world.kicks.fail_ids = set()
    await reaper.tick()
    assert world.kicks.kicked == [second.id, first.id]
    assert world.sample("csvbot_jobs_requeued_total", reason="kick_failed") == 1
    assert world.sample("csvbot_jobs_requeued_total", reason="lease_expired") == 1


async def test_a_queued_job_whose_task_was_lost_is_kicked_again_after_the_threshold(world: JobWorld) -> None:
    """A failed enqueue after upload, or a Redis restarted empty: the row is queued, no task exists."""
    job = await world.job()
    reaper = _reaper(world)
    await reaper.tick()
    assert world.kicks.kicked == []  # within the threshold: its task may still be on the queue
    world.clock.advance(STALE + 1)
    await reaper.tick()
    assert world.kicks.kicked == [job.id]
    await reaper.tick()
    assert world.kicks.kicked == [job.id], "kicked once per threshold, not on every tick"
    assert world.sample("csvbot_jobs_requeued_total", reason="task_lost") == 1


async def test_an_upload_whose_bot_died_before_queueing_it_is_resumed(world: JobWorld) -> None:
    """The bot stopped between create_job and mark_queued: the row stays received, input stored."""
    job = await world.job(queued=False)
    reaper = _reaper(world)
    world.clock.advance(STALE + 1)
    await reaper.tick()
    assert world.kicks.kicked == [job.id]
    assert (await world.repo.get_job(job.id)).status is JobStatus.QUEUED
    assert world.sample("csvbot_jobs_requeued_total", reason="never_queued") == 1


async def test_the_in_process_queue_lost_at_restart_is_refilled_on_the_first_sweep(world: JobWorld) -> None:
    """Queued jobs of the in-process broker live only in memory: a new process kicks them all."""
    jobs = [await world.job(), await world.job()]
    reaper = _reaper(world, kick_all_queued_at_start=True)
    await reaper.tick()
    assert sorted(world.kicks.kicked) == sorted(j.id for j in jobs)
    await reaper.tick()
    assert len(world.kicks.kicked) == 2, "only the first sweep takes every queued job"


async def test_a_failed_kick_inside_a_job_leaves_it_to_the_sweeper(world: JobWorld, monkeypatch: Any) -> None:
    """A retryable failure requeues the job; the kick after the backoff fails. The task must end
    normally (the queue acks it either way) and the sweeper must queue the job again."""
    monkeypatch.setattr("service.workers.runner.slo.JOB_RETRY_BACKOFF_CAP_SECONDS", 0.0)

    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise StorageUnavailableError("storage down")

    monkeypatch.setattr(world.storage, "download_to_file", unavailable)
    job = await world.job()
    world.kicks.failures = 1
    await world.runner().run(job.id, {})
    row = await world.repo.get_job(job.id)
    assert row.status is JobStatus.QUEUED and row.attempts == 1 and world.kicks.kicked == []
    world.clock.advance(STALE + 1)
    await _reaper(world).tick()
    assert world.kicks.kicked == [job.id]


async def test_a_shutdown_during_the_retry_backoff_leaves_it_to_the_sweeper(
    world: JobWorld, monkeypatch: Any
) -> None:
    monkeypatch.setattr("service.workers.runner.slo.JOB_RETRY_BACKOFF_CAP_SECONDS", 3600.0)
    monkeypatch.setattr("service.workers.runner.random.uniform", lambda a, b: b)

    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise StorageUnavailableError("storage down")

    monkeypatch.setattr(world.storage, "download_to_file", unavailable)
    job = await world.job()
    runner = world.runner()
    task = asyncio.create_task(runner.run(job.id, {}))
    for _ in range(200):
        if (await world.repo.get_job(job.id)).status is JobStatus.QUEUED:
            break
        await asyncio.sleep(0.01)
    await runner.drain(grace_seconds=0.05)  # the backoff outlasts the grace: cancelled
    assert task.cancelled() and world.kicks.kicked == []
    world.clock.advance(STALE + 1)
    await _reaper(world).tick()
    assert world.kicks.kicked == [job.id]


async def test_a_sweep_step_that_fails_does_not_stop_the_others(world: JobWorld, monkeypatch: Any) -> None:
    job = await world.job(queued=False)

    async def broken(**kwargs: Any) -> Any:
        raise ConnectionError("db hiccup")

    monkeypatch.setattr(world.repo, "kick_stale_queued", broken)
    world.clock.advance(STALE + 1)
    await _reaper(world).tick()
    assert world.kicks.kicked == [job.id]
