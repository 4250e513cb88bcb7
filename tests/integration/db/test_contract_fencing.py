"""Fenced ownership, on SQLite and PostgreSQL: a claim's ``attempts`` is its token, and only the
current holder may finish, fail, retry or renew the lease of a job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.db import JobStatus
from service.db.sql_repository import SqlRepository
from tests.integration.db.conftest import FakeClock, RepoFactory
from tests.integration.db.test_contract_jobs import LEASE, queued_job, running_job

pytestmark = pytest.mark.integration


async def _stalled_and_taken_over(
    make_repo: RepoFactory, clock: FakeClock
) -> tuple[SqlRepository, int, int, str]:
    """Worker A claims, stalls past its lease; worker B claims the job again."""
    a, b = await make_repo(), await make_repo()
    job = await running_job(a)
    clock.advance(LEASE + 1)
    taken = await b.claim_job(job.id, LEASE)
    assert taken is not None and taken.attempts == job.attempts + 1
    return a, job.attempts, taken.attempts, job.id


async def test_a_stale_owner_cannot_finish_a_job_another_worker_holds(
    make_repo: RepoFactory, clock: FakeClock
) -> None:
    a, stale, current, job_id = await _stalled_and_taken_over(make_repo, clock)
    assert await a.finish_job(job_id, cleaned_key="c", profile_key="p", summary={}, attempt=stale) is None
    row = await a.get_job(job_id)
    assert row.status is JobStatus.RUNNING and row.attempts == current and row.cleaned_key is None
    done = await a.finish_job(job_id, cleaned_key="c", profile_key="p", summary={}, attempt=current)
    assert done is not None and done.status is JobStatus.DONE


async def test_a_stale_owner_cannot_fail_or_requeue_a_job_another_worker_holds(
    make_repo: RepoFactory, clock: FakeClock
) -> None:
    a, stale, current, job_id = await _stalled_and_taken_over(make_repo, clock)
    before = await a.get_job(job_id)
    assert (
        await a.fail_job(job_id, kind="storage_timeout", message="x", retryable=True, attempt=stale) is None
    )
    assert await a.fail_job(job_id, kind="internal", message="x", retryable=False, attempt=stale) is None
    assert await a.get_job(job_id) == before
    retried = await a.fail_job(job_id, kind="storage_timeout", message="x", retryable=True, attempt=current)
    assert retried is not None and retried.status is JobStatus.QUEUED


async def test_a_stale_owner_cannot_renew_the_lease(make_repo: RepoFactory, clock: FakeClock) -> None:
    a, stale, current, job_id = await _stalled_and_taken_over(make_repo, clock)
    before = await a.get_job(job_id)
    assert await a.renew_lease(job_id, attempt=stale, lease_seconds=LEASE) is None
    assert await a.get_job(job_id) == before
    clock.advance(1)
    renewed = await a.renew_lease(job_id, attempt=current, lease_seconds=LEASE)
    assert renewed is not None and renewed.lease_expires_at == clock.now + timedelta(seconds=LEASE)


async def test_a_job_requeued_by_the_reaper_refuses_its_previous_owner(
    repo: SqlRepository, clock: FakeClock
) -> None:
    """The reaper requeued it (attempts unchanged): the old owner's token matches but it no
    longer holds a running claim, so its finish is refused and the job stays queued."""
    job = await running_job(repo)
    clock.advance(LEASE + 1)
    assert [j.id for j in (await repo.requeue_stale_jobs()).requeued] == [job.id]
    assert (
        await repo.finish_job(job.id, cleaned_key="c", profile_key="p", summary={}, attempt=job.attempts)
        is None
    )
    assert await repo.renew_lease(job.id, attempt=job.attempts, lease_seconds=LEASE) is None
    assert (await repo.get_job(job.id)).status is JobStatus.QUEUED


async def test_finishing_hands_the_delivery_to_the_finisher(repo: SqlRepository, clock: FakeClock) -> None:
    job = await queued_job(repo)
    claimed = await repo.claim_job(job.id, LEASE)
    assert claimed is not None
    done = await repo.finish_job(job.id, cleaned_key="c", profile_key="p", summary={}, attempt=claimed.token)
    assert done is not None and done.delivery_attempts == 1
    assert done.delivery_lease_expires_at is not None and done.delivery_lease_expires_at > clock.now
