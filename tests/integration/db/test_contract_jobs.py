"""The repository contract for jobs, run identically on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from service.db import Job, JobStatus, StaleJobs
from service.db.sql_repository import SqlRepository
from service.errors import JobNotFoundError
from tests.integration.db.conftest import FakeClock, RepoFactory

pytestmark = pytest.mark.integration

LEASE = 60.0


async def new_job(repo: SqlRepository, user_id: int = 1, **fields: Any) -> Job:
    await repo.upsert_user(user_id=user_id, chat_id=user_id + 1000, username=f"user{user_id}")
    return await repo.create_job(
        user_id=user_id, chat_id=user_id + 1000, file_name="sales.csv", file_size=1234, **fields
    )


async def queued_job(repo: SqlRepository, user_id: int = 1) -> Job:
    job = await new_job(repo, user_id)
    queued = await repo.mark_queued(job.id, input_key=f"{user_id}/{job.id}/input.csv")
    assert queued is not None
    return queued


async def running_job(repo: SqlRepository, user_id: int = 1) -> Job:
    job = await queued_job(repo, user_id)
    claimed = await repo.claim_job(job.id, LEASE)
    assert claimed is not None
    return claimed


async def test_a_job_goes_received_queued_running_done_with_a_timestamp_per_step(
    repo: SqlRepository, clock: FakeClock
) -> None:
    job = await new_job(repo, trace_context={"traceparent": "00-abc-def-01", "tracestate": "k=v"})
    assert job.status is JobStatus.RECEIVED and job.attempts == 0
    assert job.created_at == clock.now and len(job.id) == 12
    assert job.trace_context == {"traceparent": "00-abc-def-01", "tracestate": "k=v"}

    clock.advance(1)
    queued = await repo.mark_queued(job.id, input_key="1/x/input.csv")
    assert queued is not None and queued.status is JobStatus.QUEUED
    assert queued.queued_at == clock.now and queued.input_key == "1/x/input.csv"

    clock.advance(1)
    running = await repo.claim_job(job.id, LEASE)
    assert running is not None and running.status is JobStatus.RUNNING and running.attempts == 1
    assert running.started_at == clock.now
    assert running.lease_expires_at is not None
    assert (running.lease_expires_at - clock.now).total_seconds() == LEASE

    clock.advance(1)
    summary = {"rows": 3, "columns": [{"name": "prix", "type": "number"}], "note": "é"}
    done = await repo.finish_job(job.id, cleaned_key="c.csv", profile_key="p.json", summary=summary)
    assert done is not None and done.status is JobStatus.DONE
    assert done.finished_at == clock.now and done.updated_at == clock.now
    assert done.lease_expires_at is None
    assert (done.cleaned_key, done.profile_key, done.summary) == ("c.csv", "p.json", summary)
    assert await repo.get_job(job.id) == done


async def test_a_redelivered_task_of_a_finished_job_claims_nothing(repo: SqlRepository) -> None:
    job = await running_job(repo)
    done = await repo.finish_job(job.id, cleaned_key="c", profile_key="p", summary={})
    assert await repo.claim_job(job.id, LEASE) is None
    assert await repo.finish_job(job.id, cleaned_key="c", profile_key="p", summary={}) is None
    assert await repo.fail_job(job.id, kind="internal", message="late", retryable=True) is None
    assert await repo.get_job(job.id) == done


async def test_a_done_job_is_marked_delivered_once_and_only_when_done(repo: SqlRepository) -> None:
    job = await running_job(repo)
    assert await repo.mark_delivered(job.id) is None  # running: nothing was sent yet
    done = await repo.finish_job(job.id, cleaned_key="c", profile_key="p", summary={})
    assert done is not None and done.delivered_at is None
    delivered = await repo.mark_delivered(job.id)
    assert delivered is not None and delivered.delivered_at is not None
    assert await repo.mark_delivered(job.id) is None  # a repeat changes nothing
    assert (await repo.get_job(job.id)).delivered_at == delivered.delivered_at


async def test_transitions_outside_the_state_machine_change_nothing(repo: SqlRepository) -> None:
    received = await new_job(repo)
    assert await repo.claim_job(received.id, LEASE) is None  # not queued yet
    assert await repo.finish_job(received.id, cleaned_key="c", profile_key="p", summary={}) is None
    queued = await repo.mark_queued(received.id)
    assert queued is not None
    assert await repo.mark_queued(received.id) is None  # only from received
    assert await repo.get_job(received.id) == queued


async def test_every_job_method_raises_job_not_found_for_an_unknown_id(repo: SqlRepository) -> None:
    missing = "0" * 32
    calls = [
        repo.get_job(missing),
        repo.get_job_for_user(missing, 1),
        repo.mark_queued(missing),
        repo.mark_delivered(missing),
        repo.claim_job(missing, LEASE),
        repo.update_progress(missing, progress_message_id=1),
        repo.finish_job(missing, cleaned_key=None, profile_key=None, summary=None),
        repo.fail_job(missing, kind="internal", message="x", retryable=False),
    ]
    for call in calls:
        with pytest.raises(JobNotFoundError):
            await call


async def test_of_many_concurrent_claims_from_two_processes_exactly_one_wins(
    make_repo: RepoFactory,
) -> None:
    first, second = await make_repo(), await make_repo()
    job = await queued_job(first)
    claims = [repo.claim_job(job.id, LEASE) for repo in (first, second) for _ in range(6)]
    results = await asyncio.gather(*claims)
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0].attempts == 1
    assert (await first.get_job(job.id)).attempts == 1


async def test_a_retryable_failure_requeues_until_the_attempts_run_out(repo: SqlRepository) -> None:
    job = await queued_job(repo)
    for attempt in (1, 2):
        claimed = await repo.claim_job(job.id, LEASE)
        assert claimed is not None and claimed.attempts == attempt
        retried = await repo.fail_job(job.id, kind="storage_timeout", message="slow", retryable=True)
        assert retried is not None and retried.status is JobStatus.QUEUED
        assert retried.error_kind == "storage_timeout" and retried.finished_at is None
    assert await repo.claim_job(job.id, LEASE) is not None  # third and last attempt
    failed = await repo.fail_job(job.id, kind="storage_timeout", message="slow", retryable=True)
    assert failed is not None and failed.status is JobStatus.FAILED and failed.attempts == 3
    assert failed.finished_at is not None and failed.error_message == "slow"


async def test_attempts_an_outage_ended_are_given_back_and_the_token_still_grows(
    repo: SqlRepository, clock: FakeClock
) -> None:
    """Five attempts in a row end in a storage outage (more than JOB_MAX_ATTEMPTS): the job is
    queued again each time, every claim gets a new token, and once the outage is over the job
    still has all its ordinary attempts."""
    job = await queued_job(repo)
    tokens = []
    for _ in range(5):
        claimed = await repo.claim_job(job.id, LEASE)
        assert claimed is not None
        tokens.append(claimed.token)
        retried = await repo.fail_job(
            job.id,
            kind="storage_unavailable",
            message="down",
            retryable=True,
            attempt=claimed.token,
            outage=True,
        )
        assert retried is not None and retried.status is JobStatus.QUEUED
    assert tokens == [1, 2, 3, 4, 5], "a claim's token is never reused"
    assert (await repo.get_job(job.id)).outage_retries == 5
    # The outage is over; the job now fails for a reason of its own: three ordinary attempts.
    for attempt in (1, 2):
        claimed = await repo.claim_job(job.id, LEASE)
        assert claimed is not None
        again = await repo.fail_job(
            job.id, kind="internal", message="bug?", retryable=True, attempt=claimed.token
        )
        assert again is not None and again.status is JobStatus.QUEUED, attempt
    claimed = await repo.claim_job(job.id, LEASE)
    assert claimed is not None
    ended = await repo.fail_job(job.id, kind="internal", message="bug", retryable=True, attempt=claimed.token)
    assert ended is not None and ended.status is JobStatus.FAILED and ended.attempts == 8
    assert await repo.claim_job(job.id, LEASE) is None
    # A worker that died in an attempt after an outage: the reaper counts the same way.
    other = await queued_job(repo, user_id=2)
    first = await repo.claim_job(other.id, LEASE)
    assert first is not None
    await repo.fail_job(
        other.id, kind="db_unavailable", message="down", retryable=True, attempt=first.token, outage=True
    )
    for _ in range(3):
        assert await repo.claim_job(other.id, LEASE) is not None
        clock.advance(LEASE + 1)
        stale = await repo.requeue_stale_jobs()
        if stale.failed:
            break
    assert [j.id for j in stale.failed] == [other.id] and stale.failed[0].attempts == 4


async def test_an_input_error_ends_rejected_and_any_other_error_failed(repo: SqlRepository) -> None:
    bad_file = await running_job(repo)
    broken = await running_job(repo)
    rejected = await repo.fail_job(bad_file.id, kind="not_csv", message="binary", retryable=False)
    failed = await repo.fail_job(broken.id, kind="internal", message="bug", retryable=False)
    assert rejected is not None and rejected.status is JobStatus.REJECTED
    assert failed is not None and failed.status is JobStatus.FAILED


async def test_a_retryable_failure_before_any_worker_ran_ends_the_job(repo: SqlRepository) -> None:
    """Only a worker's attempt is retried: a job that never ran has no stored input to retry."""
    job = await new_job(repo)
    ended = await repo.fail_job(job.id, kind="storage_unavailable", message="down", retryable=True)
    assert ended is not None and ended.status is JobStatus.FAILED and ended.attempts == 0


async def test_a_running_job_is_claimable_again_only_after_its_lease_expires(
    make_repo: RepoFactory, clock: FakeClock
) -> None:
    worker_a, worker_b = await make_repo(), await make_repo()
    job = await running_job(worker_a)
    clock.advance(LEASE - 1)
    assert await worker_b.claim_job(job.id, LEASE) is None
    clock.advance(2)
    taken_over = await worker_b.claim_job(job.id, LEASE)
    assert taken_over is not None and taken_over.attempts == 2


async def test_the_reaper_requeues_jobs_whose_lease_expired(repo: SqlRepository, clock: FakeClock) -> None:
    stale = await running_job(repo, user_id=1)
    clock.advance(LEASE / 2)
    fresh = await running_job(repo, user_id=2)
    assert await repo.requeue_stale_jobs() == StaleJobs(requeued=[], failed=[])
    clock.advance(LEASE / 2 + 1)
    found = await repo.requeue_stale_jobs()
    assert [j.id for j in found.requeued] == [stale.id] and found.failed == []
    requeued = found.requeued[0]
    assert requeued.status is JobStatus.QUEUED and requeued.lease_expires_at is None
    assert requeued.error_kind == "internal"
    assert (await repo.get_job(fresh.id)).status is JobStatus.RUNNING
    again = await repo.claim_job(stale.id, LEASE)
    assert again is not None and again.attempts == 2


async def test_a_lease_expiring_on_the_last_attempt_fails_the_job(
    repo: SqlRepository, clock: FakeClock
) -> None:
    job = await queued_job(repo)
    for _ in range(2):
        assert await repo.claim_job(job.id, LEASE) is not None
        clock.advance(LEASE + 1)
        assert [j.id for j in (await repo.requeue_stale_jobs()).requeued] == [job.id]
    assert await repo.claim_job(job.id, LEASE) is not None
    clock.advance(LEASE + 1)
    found = await repo.requeue_stale_jobs(now=clock.now)
    assert found.requeued == [] and [j.id for j in found.failed] == [job.id]
    assert found.failed[0].status is JobStatus.FAILED and found.failed[0].attempts == 3


async def test_update_progress_stores_the_message_and_extends_a_running_lease(
    repo: SqlRepository, clock: FakeClock
) -> None:
    queued = await queued_job(repo)
    noted = await repo.update_progress(queued.id, progress_message_id=77, lease_seconds=30)
    assert noted.progress_message_id == 77 and noted.lease_expires_at is None  # no lease when queued
    await repo.claim_job(queued.id, 10)
    clock.advance(5)
    extended = await repo.update_progress(queued.id, lease_seconds=60)
    assert extended.lease_expires_at is not None
    assert (extended.lease_expires_at - clock.now).total_seconds() == 60
    assert extended.progress_message_id == 77
    clock.advance(20)  # past the original 10 s lease, inside the extended one
    assert (await repo.requeue_stale_jobs()).requeued == []


async def test_a_user_can_only_see_their_own_jobs(repo: SqlRepository) -> None:
    alices = await new_job(repo, user_id=1)
    await new_job(repo, user_id=2)
    assert (await repo.get_job_for_user(alices.id, 1)).id == alices.id
    with pytest.raises(JobNotFoundError) as other_users:
        await repo.get_job_for_user(alices.id, 2)
    with pytest.raises(JobNotFoundError) as missing:
        await repo.get_job_for_user("f" * 32, 2)
    assert type(other_users.value) is type(missing.value)
    assert other_users.value.user_message == missing.value.user_message
    assert [j.user_id for j in await repo.list_jobs(2)] == [2]


async def test_list_jobs_returns_a_users_newest_jobs_first(repo: SqlRepository, clock: FakeClock) -> None:
    created = []
    for _ in range(5):
        clock.advance(1)
        created.append((await new_job(repo)).id)
    assert [j.id for j in await repo.list_jobs(1, limit=3)] == created[::-1][:3]


async def test_counts_by_status_cover_every_state(repo: SqlRepository) -> None:
    await new_job(repo)
    await queued_job(repo)
    await running_job(repo)
    done = await running_job(repo)
    await repo.finish_job(done.id, cleaned_key="c", profile_key="p", summary={})
    for kind in ("internal", "not_csv", "internal"):
        job = await running_job(repo)
        await repo.fail_job(job.id, kind=kind, message="x", retryable=False)
    counts = await repo.count_jobs_by_status()
    assert counts == {
        JobStatus.RECEIVED: 1,
        JobStatus.QUEUED: 1,
        JobStatus.RUNNING: 1,
        JobStatus.DONE: 1,
        JobStatus.FAILED: 2,
        JobStatus.REJECTED: 1,
    }


async def test_upserting_a_user_keeps_first_seen_and_refreshes_the_rest(
    repo: SqlRepository, clock: FakeClock
) -> None:
    first = await repo.upsert_user(user_id=9_000_000_001, chat_id=5, username="old")
    clock.advance(60)
    again = await repo.upsert_user(user_id=9_000_000_001, chat_id=6, username=None)
    assert again.first_seen_at == first.first_seen_at and again.last_seen_at == clock.now
    assert (again.chat_id, again.username) == (6, None)
