"""The repository contract for users' preferences, cancelling, deleting and retention, run
identically on SQLite and on a real PostgreSQL (migration 005 on both dialects)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.db import JobStatus, utc_now
from service.db.sql_repository import SqlRepository
from service.db.userdata import is_cancelled
from service.errors import JobNotFoundError
from tests.integration.db.conftest import FakeClock
from tests.integration.db.test_contract_jobs import LEASE, new_job, queued_job, running_job

pytestmark = pytest.mark.integration


async def test_remember_user_records_the_language_code_and_keeps_the_choices(repo: SqlRepository) -> None:
    prefs = await repo.remember_user(user_id=7, chat_id=70, username="a", language_code="ru")
    assert (prefs.language, prefs.language_code, prefs.output_format) == (None, "ru", None)
    await repo.set_language(7, "en")
    await repo.set_output_format(7, "xlsx")
    again = await repo.remember_user(user_id=7, chat_id=70, username="a", language_code="kk")
    assert (again.language, again.language_code, again.output_format) == ("en", "kk", "xlsx")
    assert await repo.get_user_prefs(7) == again
    assert await repo.get_user_prefs(8) is None
    with pytest.raises(ValueError):
        await repo.set_output_format(7, "pdf")


async def test_a_queued_job_cancelled_is_final_and_never_claimed(repo: SqlRepository) -> None:
    job = await queued_job(repo, user_id=1)
    result = await repo.cancel_job(job.id, 1)
    assert result is not None and result.previous is JobStatus.QUEUED and is_cancelled(result.job)
    assert await repo.claim_job(job.id, LEASE) is None
    assert await repo.cancel_job(job.id, 1) is None  # already final


async def test_a_running_job_cancelled_cannot_be_finished(repo: SqlRepository) -> None:
    job = await running_job(repo, user_id=1)
    result = await repo.cancel_job(job.id, 1)
    assert result is not None and result.previous is JobStatus.RUNNING
    assert await repo.finish_job(job.id, cleaned_key="c", profile_key="p", summary={}) is None
    assert is_cancelled(await repo.get_job(job.id))


async def test_another_users_job_cannot_be_cancelled_and_looks_missing(repo: SqlRepository) -> None:
    job = await queued_job(repo, user_id=1)
    await repo.upsert_user(user_id=2, chat_id=1002, username="other")
    with pytest.raises(JobNotFoundError):
        await repo.cancel_job(job.id, 2)
    assert (await repo.get_job(job.id)).status is JobStatus.QUEUED


async def test_delete_user_data_removes_the_jobs_and_the_user(repo: SqlRepository) -> None:
    await queued_job(repo, user_id=1)
    await new_job(repo, user_id=1)
    other = await queued_job(repo, user_id=2)
    assert len(await repo.list_user_jobs(1)) == 2
    await repo.delete_user_data(1)
    assert await repo.list_user_jobs(1) == []
    assert await repo.get_user_prefs(1) is None
    assert (await repo.get_job(other.id)).user_id == 2


async def test_expired_jobs_are_old_and_not_running(repo: SqlRepository, clock: FakeClock) -> None:
    old_done = await queued_job(repo, user_id=1)
    old_running = await running_job(repo, user_id=1)
    clock.advance(8 * 86400)
    fresh = await queued_job(repo, user_id=1)
    cutoff = clock() - timedelta(days=7)
    expired = await repo.expired_jobs(cutoff, limit=10)
    assert [j.id for j in expired] == [old_done.id]
    assert await repo.delete_jobs([old_done.id, old_running.id]) == 1
    assert {j.id for j in await repo.list_user_jobs(1)} == {old_running.id, fresh.id}


async def test_result_file_ids_are_stored_per_job(repo: SqlRepository) -> None:
    job = await queued_job(repo, user_id=1)
    assert await repo.result_file_ids(job.id) is None
    await repo.set_result_file_ids(job.id, "AAA", "BBB")
    assert await repo.result_file_ids(job.id) == ("AAA", "BBB")


async def exercise_user_data(repo: SqlRepository) -> None:
    """Run every user-data query once (the query-name catalogue test calls this)."""
    await repo.remember_user(user_id=1, chat_id=1, username=None, language_code="ru")
    await repo.get_user_prefs(1)
    await repo.set_language(1, "ru")
    job = await repo.create_job(user_id=1, chat_id=1, file_name="b.csv", file_size=1)
    await repo.cancel_job(job.id, 1)
    await repo.set_result_file_ids(job.id, "a", "b")
    await repo.result_file_ids(job.id)
    await repo.list_user_jobs(1)
    await repo.expired_jobs(utc_now(), 10)
    await repo.delete_jobs([job.id])
    await repo.delete_user_data(2)
