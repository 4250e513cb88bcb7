"""The sweeper's and the delivery step's queries, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from service.db import JobStatus
from service.db.sql_repository import SqlRepository
from tests.integration.db.conftest import FakeClock, RepoFactory
from tests.integration.db.test_contract_jobs import LEASE, new_job, queued_job, running_job

pytestmark = pytest.mark.integration

STALE = 60.0


async def done_job(repo: SqlRepository, user_id: int = 1) -> tuple[str, int]:
    """A done job and its delivery token."""
    job = await running_job(repo, user_id)
    done = await repo.finish_job(job.id, cleaned_key="c", profile_key="p", summary={}, attempt=job.token)
    assert done is not None
    return done.id, done.delivery_attempts


async def test_a_queued_job_untouched_past_the_threshold_is_kicked_once_per_threshold(
    repo: SqlRepository, clock: FakeClock
) -> None:
    old = await queued_job(repo, user_id=1)
    clock.advance(STALE / 2)
    fresh = await queued_job(repo, user_id=2)
    clock.advance(STALE / 2 + 1)
    kicked = await repo.kick_stale_queued(stale_after=STALE)
    assert [j.id for j in kicked] == [old.id] and kicked[0].kicked_at == clock.now
    assert await repo.kick_stale_queued(stale_after=STALE) == []  # just kicked: not again yet
    clock.advance(STALE / 2)
    assert [j.id for j in await repo.kick_stale_queued(stale_after=STALE)] == [fresh.id]
    clock.advance(STALE + 1)
    assert {j.id for j in await repo.kick_stale_queued(stale_after=STALE)} == {old.id, fresh.id}


async def test_only_queued_jobs_are_kicked_and_zero_means_every_one(repo: SqlRepository) -> None:
    queued = await queued_job(repo, user_id=1)
    await running_job(repo, user_id=2)
    await new_job(repo, user_id=3)
    assert [j.id for j in await repo.kick_stale_queued(stale_after=0)] == [queued.id]


async def test_two_sweepers_never_kick_the_same_job(make_repo: RepoFactory, clock: FakeClock) -> None:
    first, second = await make_repo(), await make_repo()
    ids = {(await queued_job(first, user_id=i)).id for i in range(1, 6)}
    clock.advance(STALE + 1)
    results = await asyncio.gather(*(r.kick_stale_queued(stale_after=STALE) for r in (first, second) * 3))
    kicked = [j.id for batch in results for j in batch]
    assert sorted(kicked) == sorted(ids)


async def test_a_received_job_with_its_input_stored_is_resumed_after_the_threshold(
    repo: SqlRepository, clock: FakeClock
) -> None:
    stored = await new_job(repo, user_id=1, input_key="1/a/input.csv")
    without_input = await new_job(repo, user_id=2)
    assert await repo.resume_received(stale_after=STALE) == []
    clock.advance(STALE + 1)
    resumed = await repo.resume_received(stale_after=STALE)
    assert [j.id for j in resumed] == [stored.id]
    assert resumed[0].status is JobStatus.QUEUED and resumed[0].queued_at == clock.now
    assert (await repo.get_job(without_input.id)).status is JobStatus.RECEIVED
    assert await repo.claim_job(stored.id, LEASE) is not None


async def test_an_undelivered_done_job_is_claimed_for_delivery_only_after_its_lease(
    repo: SqlRepository, clock: FakeClock
) -> None:
    job_id, token = await done_job(repo)
    assert (await repo.claim_deliveries(max_attempts=5, lease_seconds=LEASE)).claimed == []
    clock.advance(repo._settings.job_lease_seconds + 1)
    claims = await repo.claim_deliveries(max_attempts=5, lease_seconds=LEASE)
    assert [j.id for j in claims.claimed] == [job_id] and claims.abandoned == []
    assert claims.claimed[0].delivery_attempts == token + 1
    assert (await repo.claim_deliveries(max_attempts=5, lease_seconds=LEASE)).claimed == []  # leased now


async def test_each_document_is_recorded_once_and_only_the_current_deliverer_goes_on(
    repo: SqlRepository, clock: FakeClock
) -> None:
    job_id, first = await done_job(repo)
    assert await repo.record_document_delivered(job_id, "cleaned", delivery_attempt=first)
    assert await repo.delivered_documents(job_id) == {"cleaned"}
    clock.advance(repo._settings.job_lease_seconds + 1)
    [taken] = (await repo.claim_deliveries(max_attempts=5, lease_seconds=LEASE)).claimed
    second = taken.delivery_attempts
    # The first deliverer stalled and comes back: told to stop, and not delivered — but the
    # document it did send is kept, so the new claim does not send it again.
    assert not await repo.renew_delivery(job_id, delivery_attempt=first, lease_seconds=LEASE)
    assert not await repo.record_document_delivered(job_id, "profile", delivery_attempt=first)
    assert await repo.mark_delivered(job_id, delivery_attempt=first) is None
    assert await repo.delivered_documents(job_id) == {"cleaned", "profile"}
    assert await repo.renew_delivery(job_id, delivery_attempt=second, lease_seconds=LEASE)
    assert await repo.record_document_delivered(job_id, "profile", delivery_attempt=second)
    assert await repo.record_document_delivered(job_id, "profile", delivery_attempt=second)  # idempotent
    delivered = await repo.mark_delivered(job_id, delivery_attempt=second)
    assert delivered is not None and delivered.delivered_at is not None
    assert delivered.delivery_lease_expires_at is None
    assert (await repo.claim_deliveries(max_attempts=5, lease_seconds=LEASE)).claimed == []


async def test_a_released_delivery_is_retried_after_its_backoff_and_abandoned_past_the_attempts(
    repo: SqlRepository, clock: FakeClock
) -> None:
    job_id, token = await done_job(repo)
    for attempt in range(token, 3):
        released = await repo.release_delivery(job_id, delivery_attempt=attempt, retry_in_seconds=10)
        assert released is not None
        clock.advance(5)
        assert (await repo.claim_deliveries(max_attempts=3, lease_seconds=LEASE)).claimed == []
        clock.advance(6)
        [claimed] = (await repo.claim_deliveries(max_attempts=3, lease_seconds=LEASE)).claimed
        assert claimed.delivery_attempts == attempt + 1
    assert await repo.release_delivery(job_id, delivery_attempt=3, retry_in_seconds=10) is not None
    clock.advance(11)
    claims = await repo.claim_deliveries(max_attempts=3, lease_seconds=LEASE, error="gave up")
    assert claims.claimed == [] and [j.id for j in claims.abandoned] == [job_id]
    assert (await repo.get_job(job_id)).delivery_error == "gave up"


async def test_a_delivery_given_up_is_never_claimed_again(repo: SqlRepository, clock: FakeClock) -> None:
    job_id, token = await done_job(repo)
    given_up = await repo.give_up_delivery(job_id, delivery_attempt=token, error="bot blocked")
    assert given_up is not None and given_up.delivery_error == "bot blocked"
    clock.advance(10 * LEASE)
    claims = await repo.claim_deliveries(max_attempts=5, lease_seconds=LEASE)
    assert claims.claimed == [] and claims.abandoned == []


async def test_a_delivery_lease_is_renewed_only_by_its_current_claim(
    repo: SqlRepository, clock: FakeClock
) -> None:
    job_id, token = await done_job(repo)
    clock.advance(repo._settings.job_lease_seconds - 1)
    assert await repo.renew_delivery(job_id, delivery_attempt=token, lease_seconds=LEASE)
    clock.advance(LEASE - 1)  # past the first lease, within the renewed one: nobody may claim
    assert (await repo.claim_deliveries(max_attempts=5, lease_seconds=LEASE)).claimed == []
    clock.advance(2)
    [taken] = (await repo.claim_deliveries(max_attempts=5, lease_seconds=LEASE)).claimed
    assert not await repo.renew_delivery(job_id, delivery_attempt=token, lease_seconds=LEASE)
    assert await repo.mark_delivered(job_id, delivery_attempt=taken.delivery_attempts) is not None
    assert not await repo.renew_delivery(
        job_id, delivery_attempt=taken.delivery_attempts, lease_seconds=LEASE
    ), "a delivered job has no lease to renew"


async def test_the_ages_of_waiting_jobs_are_those_of_the_oldest_in_each_stage(
    repo: SqlRepository, clock: FakeClock
) -> None:
    """What the stuck-job and undelivered-result alerts read: per stage, how long its oldest job
    has been in it (0 where none is), and how many are."""
    empty = await repo.job_path_ages()
    assert empty.oldest_seconds == dict.fromkeys(("received", "queued", "running", "undelivered"), 0.0)
    await new_job(repo, user_id=1)
    clock.advance(100)
    await queued_job(repo, user_id=2)
    clock.advance(100)
    await queued_job(repo, user_id=3)  # younger: the oldest queued one counts
    await running_job(repo, user_id=4)
    await done_job(repo, user_id=5)  # finished, not delivered yet
    delivered, token = await done_job(repo, user_id=6)
    assert await repo.mark_delivered(delivered, delivery_attempt=token) is not None
    given_up, token = await done_job(repo, user_id=7)
    assert await repo.give_up_delivery(given_up, delivery_attempt=token, error="blocked") is not None
    clock.advance(50)
    ages = await repo.job_path_ages()
    assert ages.oldest_seconds == {"received": 250.0, "queued": 150.0, "running": 50.0, "undelivered": 50.0}
    assert ages.counts == {"received": 1, "queued": 2, "running": 1, "undelivered": 1}
