"""The reaper publishes how long jobs wait in each stage: the stuck-job and undelivered-result
alerts read these gauges."""

from __future__ import annotations

from service.workers.reaper import Reaper
from tests.unit.workers.conftest import JobWorld


async def test_each_tick_publishes_the_ages_of_the_oldest_waiting_jobs(world: JobWorld) -> None:
    reaper = Reaper(world.services, world.bot, world.kicks, heartbeat_file=None)
    await reaper.tick()
    assert world.sample("csvbot_jobs_oldest_age_seconds", status="queued") == 0
    await world.job()
    world.clock.advance(40)
    await world.done_job()  # finished now, its result not sent
    world.clock.advance(20)
    await reaper.tick()
    assert world.sample("csvbot_jobs_oldest_age_seconds", status="queued") == 60
    assert world.sample("csvbot_jobs_oldest_age_seconds", status="running") == 0
    assert world.sample("csvbot_results_undelivered") == 1
    assert world.sample("csvbot_results_undelivered_oldest_age_seconds") == 20
