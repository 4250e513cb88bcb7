"""/jobs (the user's recent jobs) and /job <id> (one job's details and its results again)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from service import messages
from service.db import Job
from service.db.userdata import is_cancelled
from service.deps import Services
from service.i18n.errors import error_text
from service.results.send import resend
from service.results.summary import result_text

RECENT_JOBS = 10


def build_router() -> Router:
    router = Router(name="jobs")
    router.message.register(on_jobs, Command("jobs"), flags={"handler": "jobs"})
    router.message.register(on_job, Command("job"), flags={"handler": "job"})
    return router


def shown_status(job: Job) -> str:
    return "cancelled" if is_cancelled(job) else job.status.value


async def on_jobs(message: Message, services: Services) -> None:
    assert message.from_user is not None
    jobs = await services.repo.list_jobs(message.from_user.id, limit=RECENT_JOBS)
    if not jobs:
        await message.answer(messages.no_jobs())
        return
    lines = [messages.jobs_header()]
    lines += [messages.job_line(job.id, shown_status(job), job.file_name, job.created_at) for job in jobs]
    lines.append("\n" + messages.jobs_footer())
    await message.answer("\n".join(lines))


async def on_job(message: Message, command: CommandObject, bot: Bot, services: Services) -> None:
    assert message.from_user is not None
    job_id = (command.args or "").strip()
    if not job_id:
        await message.answer(messages.job_usage())
        return
    # Raises JobNotFoundError for a missing job *and* for another user's job.
    job = await services.repo.get_job_for_user(job_id, message.from_user.id)
    text = messages.job_details(
        job_id=job.id,
        status=shown_status(job),
        file_name=job.file_name,
        file_size=job.file_size,
        created_at=job.created_at,
        attempts=job.attempts,
    )
    if job.error_kind and not is_cancelled(job):
        text += "\n" + messages.job_problem(error_text(job.error_kind, job.error_message, services.settings))
    await message.answer(text)
    if job.cleaned_key:
        summary = job.summary or {}
        caption = result_text(job.id, summary, summary.get("column_profiles") or [])
        if not await resend(services, bot, job, caption, reply_to=message.message_id):
            await message.answer(messages.results_gone())
