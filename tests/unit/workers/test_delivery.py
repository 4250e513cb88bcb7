"""Which done jobs count as stranded: finished, never marked delivered, and quiet for half a lease."""

from __future__ import annotations

from datetime import timedelta

from service.db import Job, JobStatus, utc_now
from service.workers.delivery import is_stranded, result_caption


def _job(status: JobStatus, *, finished_ago: float | None, delivered: bool = False) -> Job:
    now = utc_now()
    finished = None if finished_ago is None else now - timedelta(seconds=finished_ago)
    return Job(
        "j1",
        1,
        1,
        "f.csv",
        1,
        status,
        1,
        now,
        now,
        finished_at=finished,
        delivered_at=now if delivered else None,
    )


def test_only_an_undelivered_done_job_quiet_for_half_a_lease_is_stranded() -> None:
    assert is_stranded(_job(JobStatus.DONE, finished_ago=40), lease_seconds=60)
    assert not is_stranded(_job(JobStatus.DONE, finished_ago=10), lease_seconds=60), "maybe still sending"
    assert not is_stranded(_job(JobStatus.DONE, finished_ago=40, delivered=True), lease_seconds=60)
    assert not is_stranded(_job(JobStatus.FAILED, finished_ago=40), lease_seconds=60)
    assert not is_stranded(_job(JobStatus.RUNNING, finished_ago=None), lease_seconds=60)


def test_the_caption_leads_with_the_job_id_and_fits_telegrams_limit() -> None:
    caption = result_caption("abc123", "x" * 5000)
    assert caption.startswith("Job abc123\n") and len(caption) == 1024
