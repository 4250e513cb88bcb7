"""Real processes (the bot and ``csvbot worker`` on PostgreSQL and Redis) through the faults the
job path must outlive: Redis restarted empty in the middle of a load, and a worker killed
between the two documents of a result. Each upload must end with its result delivered once."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from emulators.supabase_storage import Fault
from emulators.telegram import TranscriptEntry
from service.workers.broker import CONSUMER_GROUP, STREAM
from tests.integration.e2e.conftest import Stack
from tests.integration.e2e.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

UPLOAD = b"id,name,amount\n1,alpha,10\n2,beta,-3\n3,gamma,7.5\n"
UPLOADS = 20


def _documents(stack: Stack, chat_id: int, suffix: str) -> list[TranscriptEntry]:
    return [
        e
        for e in stack.emulator.bot_messages(chat_id)
        if e.document is not None and e.document.file_name.endswith(suffix)
    ]


async def test_redis_restarted_empty_mid_load_still_delivers_every_result_once(stack: Stack) -> None:
    """Half the uploads wait in the stream (the worker is paused), Redis loses its data (stream,
    messages and consumer group), the other half arrive, the worker resumes: every user gets one
    cleaned file and one profile — the lost tasks through the sweeper, the new ones through the
    recreated group."""
    [worker] = stack.live_workers
    users = [stack.emulator.create_user(f"load{i}") for i in range(UPLOADS)]
    redis = aioredis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        worker.pause()
        for user in users[: UPLOADS // 2]:
            await stack.emulator.send_document(user.id, UPLOAD, "load.csv", mime_type="text/csv")
        for user in users[: UPLOADS // 2]:
            await stack.emulator.wait_for_message(user.id, lambda e: "Queued" in e.content, timeout=60)
        # "Queued" is edited in before the enqueue (so a late edit cannot hide a result): wait
        # for the tasks themselves to reach the stream.
        deadline = time.monotonic() + 60
        lost = await redis.xlen(STREAM)
        while lost < UPLOADS // 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # polling Redis: there is no event to wait on
            lost = await redis.xlen(STREAM)
        await redis.delete(STREAM, f"autoclaim:{CONSUMER_GROUP}:{STREAM}")  # what a restart empties
        for user in users[UPLOADS // 2 :]:
            await stack.emulator.send_document(user.id, UPLOAD, "load.csv", mime_type="text/csv")
        started = time.monotonic()
        worker.resume()
        for user in users:
            await stack.emulator.wait_for_message(
                user.id,
                lambda e: e.document is not None and e.document.file_name.endswith(".profile.csv"),
                timeout=90,
            )
        elapsed = time.monotonic() - started
        await asyncio.sleep(3)  # room for a duplicate to show up
    finally:
        worker.resume()
        await redis.aclose()
    cleaned = [len(_documents(stack, u.id, ".cleaned.csv")) for u in users]
    profiles = [len(_documents(stack, u.id, ".profile.csv")) for u in users]
    print(f"tasks lost with the stream: {lost}; all {UPLOADS} results {elapsed:.1f} s after resuming")
    assert lost == UPLOADS // 2
    assert cleaned == [1] * UPLOADS and profiles == [1] * UPLOADS
    # Each lost task comes back through the sweeper, as a lost task or (when its row was caught
    # between states) a kick retried or an upload never queued.
    requeued = 0.0
    for reason in ("task_lost", "kick_failed", "never_queued"):
        requeued += await worker.metric("csvbot_jobs_requeued_total", {"reason": reason}) or 0
    assert requeued >= lost


async def test_a_worker_killed_between_the_documents_resends_only_the_missing_one(stack: Stack) -> None:
    """SIGKILL after the cleaned file reached the user, while the profile is in flight: the next
    worker sends the profile (marked as sent again) and never the cleaned file a second time."""
    [doomed] = stack.live_workers
    user = stack.emulator.create_user("Killed")
    # Each document takes 3 s to send: the worker dies 1 s into the second one, after the first
    # was recorded as delivered.
    stack.emulator.inject_latency(["sendDocument"], seconds=3.0, count=2)
    await stack.emulator.send_document(user.id, UPLOAD, "kill.csv", mime_type="text/csv")
    first = await stack.emulator.wait_for_message(
        user.id,
        lambda e: e.document is not None and e.document.file_name.endswith(".cleaned.csv"),
        timeout=60,
    )
    await asyncio.sleep(1.0)
    doomed.kill()
    assert doomed.proc is not None
    await doomed.proc.wait()
    await stack.start_worker()
    resent = await stack.emulator.wait_for_message(
        user.id,
        lambda e: e.document is not None and e.document.file_name.endswith(".profile.csv"),
        timeout=60,
    )
    await asyncio.sleep(8)  # past another delivery lease and reaper tick: any duplicate would show
    assert len(_documents(stack, user.id, ".cleaned.csv")) == 1
    profiles = _documents(stack, user.id, ".profile.csv")
    assert 1 <= len(profiles) <= 2, "the in-flight profile is the only document that may repeat"
    assert any((p.caption or "").endswith("(sent again)") for p in profiles)
    job_id = (first.caption or "").split()[1]

    async def delivered() -> bool:
        row = await stack.job_row(job_id)
        return row["status"] == "done"

    await eventually(delivered, within=10, what="the job row to be done")
    print(f"killed mid-delivery: cleaned sent 1x, profile sent {len(profiles)}x (resent: {resent.caption!r})")


async def test_sigterm_lets_the_workers_running_job_finish_before_it_exits(stack: Stack) -> None:
    """``csvbot worker`` drains like the bot: SIGTERM mid-job, the job still ends delivered by
    this worker (one attempt), and the process exits 0."""
    [worker] = stack.live_workers
    user = stack.emulator.create_user("Drained")
    stack.storage.faults.add(Fault.latency(3.0, operations={"download"}, count=1))
    await stack.emulator.send_document(user.id, UPLOAD, "drain.csv", mime_type="text/csv")
    await eventually(
        lambda: stack.storage.faults.fired[("download", "latency")], within=30, what="the job to start"
    )
    assert worker.proc is not None
    worker.proc.terminate()
    assert await asyncio.wait_for(worker.proc.wait(), 40) == 0
    result = await stack.emulator.wait_for_message(
        user.id, lambda e: e.document is not None and e.document.file_name.endswith(".profile.csv"), timeout=5
    )
    job_id = next(e for e in _documents(stack, user.id, ".cleaned.csv")).content.split()[1]
    row = await stack.job_row(job_id)
    assert row["status"] == "done" and row["attempts"] == 1, row
    assert result is not None
