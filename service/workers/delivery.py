"""Sending a job's result to its user — the first time, and again for a worker that died first.

The result is recorded (``finish_job``) before it is sent and marked delivered after, so a worker
killed in between leaves a ``done`` job without ``delivered_at``. When the queue hands that job's
task to another worker, the job is no longer claimable, and :func:`redeliver_if_stranded` sends
the stored result instead of doing nothing: the user gets the file, once in the normal case.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiogram import Bot
from aiogram.types import FSInputFile

from service.db import Job, JobStatus
from service.deps import Services
from service.i18n.users import speaking_to
from service.results.send import resend
from service.results.summary import result_text

log = logging.getLogger(__name__)


def result_caption(job_id: str, summary_text: str) -> str:
    """The job id leads, so the user (and the simulator) can match a result to its upload;
    Telegram caps captions at 1,024 characters."""
    return f"Job {job_id}\n{summary_text}"[:1024]


async def send_result(bot: Bot, job: Job, cleaned: Path, profile: Path, caption: str) -> None:
    stem = Path(job.file_name).stem or "data"
    await bot.send_document(
        job.chat_id, FSInputFile(cleaned, filename=f"{stem}.cleaned.csv"), caption=caption
    )
    await bot.send_document(job.chat_id, FSInputFile(profile, filename=f"{stem}.profile.csv"))


def is_stranded(job: Job, lease_seconds: float, now: datetime | None = None) -> bool:
    """A done job whose result was never marked sent, finished long enough ago (half a lease)
    that the worker that finished it is presumed dead rather than still sending."""
    if job.status is not JobStatus.DONE or job.delivered_at is not None or job.finished_at is None:
        return False
    now = now or datetime.now(UTC)
    return now - job.finished_at >= timedelta(seconds=lease_seconds / 2)


async def redeliver_if_stranded(services: Services, bot: Bot, job_id: str, lease_seconds: float) -> bool:
    """Send a stranded job's stored result; ``True`` if it was sent."""
    job = await services.repo.get_job(job_id)
    if not is_stranded(job, lease_seconds) or job.cleaned_key is None or job.profile_key is None:
        return False
    summary = job.summary or {}
    async with speaking_to(services, job.user_id):
        await resend(services, bot, job, result_text(job.id, summary, summary.get("column_profiles") or []))
    await services.repo.mark_delivered(job.id)
    log.warning(
        "result of a job whose worker died before sending it was sent now",
        extra={"event": "result_redelivered", "job_id": job.id},
    )
    return True
