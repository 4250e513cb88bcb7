"""/jobs (the user's recent jobs) and /job <id> (one job's details and its result again)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import FSInputFile, Message

from service import messages
from service.deps import Services

RECENT_JOBS = 10


def build_router() -> Router:
    router = Router(name="jobs")
    router.message.register(on_jobs, Command("jobs"), flags={"handler": "jobs"})
    router.message.register(on_job, Command("job"), flags={"handler": "job"})
    return router


async def on_jobs(message: Message, services: Services) -> None:
    assert message.from_user is not None
    jobs = await services.repo.list_jobs(message.from_user.id, limit=RECENT_JOBS)
    if not jobs:
        await message.answer(messages.no_jobs())
        return
    lines = ["Your recent jobs:"]
    for job in jobs:
        when = job.created_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"{job.id} · {job.status.value} · {job.file_name} · {when}")
    lines.append("\nSend /job <id> for details.")
    await message.answer("\n".join(lines))


async def on_job(message: Message, command: CommandObject, services: Services) -> None:
    assert message.from_user is not None
    job_id = (command.args or "").strip()
    if not job_id:
        await message.answer(messages.job_usage())
        return
    # Raises JobNotFoundError for a missing job *and* for another user's job.
    job = await services.repo.get_job_for_user(job_id, message.from_user.id)
    lines = [
        f"Job {job.id}: {job.status.value}",
        f"File: {job.file_name} ({job.file_size:,} bytes)",
        f"Created: {job.created_at:%Y-%m-%d %H:%M:%S} UTC",
        f"Attempts: {job.attempts}",
    ]
    if job.error_kind:
        lines.append(f"Problem: {job.error_message or job.error_kind}")
    await message.answer("\n".join(lines))
    if job.cleaned_key:
        # A fresh copy from storage, so the result can be fetched again long after the chat moved on.
        with tempfile.TemporaryDirectory(prefix="csvbot-job-") as tmp:
            path = await services.storage.download_to_file(job.cleaned_key, Path(tmp))
            await message.answer_document(FSInputFile(path, filename=_cleaned_name(job.file_name)))


def _cleaned_name(file_name: str) -> str:
    stem = Path(file_name).stem or "data"
    return f"{stem}.cleaned.csv"
