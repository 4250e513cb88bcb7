"""The per-user usage query behind the quotas, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.db.sql_repository import SqlRepository
from tests.integration.db.conftest import FakeClock

pytestmark = pytest.mark.integration


async def test_usage_counts_jobs_in_flight_and_the_bytes_of_recent_jobs_of_that_user_only(
    repo: SqlRepository, clock: FakeClock
) -> None:
    for user_id in (1, 2):
        await repo.upsert_user(user_id=user_id, chat_id=user_id, username=None)
    old = await repo.create_job(user_id=1, chat_id=1, file_name="old.csv", file_size=1000)
    await repo.fail_job(old.id, kind="internal", message="x", retryable=False)
    clock.advance(3600)
    since = clock() - timedelta(minutes=30)
    received = await repo.create_job(user_id=1, chat_id=1, file_name="a.csv", file_size=10)
    queued = await repo.create_job(user_id=1, chat_id=1, file_name="b.csv", file_size=20)
    await repo.mark_queued(queued.id)
    done = await repo.create_job(user_id=1, chat_id=1, file_name="c.csv", file_size=40)
    await repo.mark_queued(done.id)
    await repo.claim_job(done.id, 60)
    await repo.finish_job(done.id, cleaned_key=None, profile_key=None, summary=None)
    await repo.create_job(user_id=2, chat_id=2, file_name="other.csv", file_size=500)

    usage = await repo.user_usage(1, since)
    assert usage.active_jobs == 2, (received.id, queued.id)
    assert usage.bytes_since == 70
    assert (await repo.user_usage(3, since)).active_jobs == 0
