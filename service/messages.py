"""Everything csvbot says to a Telegram user, in one place, in the user's language.

Plain text only (no parse mode): file names and cell values are user data and must never be
interpreted as markup (the one monospace block of a result is a message entity, see
:mod:`service.results.summary`). Each text is English inside ``_()``/``ngettext`` and is
translated when the function runs, into the current language (:mod:`service.i18n`); numbers,
sizes and times go through Babel.
"""

from __future__ import annotations

from datetime import datetime

from service.config import Settings
from service.i18n import N_, _, ngettext
from service.i18n import fmt as f

#: Job states as the user reads them (the status column's values are the keys).
STATUS_NAMES = {
    "received": N_("received"),
    "queued": N_("queued"),
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "rejected": N_("rejected"),
    "cancelled": N_("cancelled"),
}
#: Progress stages the worker reports.
STAGE_NAMES = {
    "queued": N_("queued"),
    "downloading": N_("downloading"),
    "processing": N_("processing"),
    "saving results": N_("saving results"),
    "sending": N_("sending"),
}
FORMAT_NAMES = {
    "csv": N_("CSV (comma-separated)"),
    "csv_excel": N_("CSV for Excel (semicolon-separated)"),
    "xlsx": N_("Excel workbook (XLSX)"),
}


def status_name(status: str) -> str:
    return _(STATUS_NAMES.get(status, status))


def count(n: int) -> str:
    return f.number(n, decimals=0)


def start_text(settings: Settings) -> str:
    return (
        _("Hi! Send me a CSV file and I'll send back a profile of its columns and a cleaned copy.")
        + "\n"
        + privacy_line(settings)
        + "\n\n"
        + help_text(settings)
    )


def privacy_line(settings: Settings) -> str:
    days = settings.retention_days
    return ngettext(
        "I keep your files and results for {days} day, then delete them; /privacy tells more, "
        "/delete removes everything now.",
        "I keep your files and results for {days} days, then delete them; /privacy tells more, "
        "/delete removes everything now.",
        days,
    ).format(days=days)


def help_text(settings: Settings) -> str:
    limits = _(
        "Limits: {size} per file, {rows} rows, {columns} columns, {chars} characters per cell."
    ).format(
        size=f.size(settings.max_upload_bytes),
        rows=count(settings.max_rows),
        columns=count(settings.max_columns),
        chars=count(settings.max_field_chars),
    )
    return "\n\n".join(
        [
            _(
                "How it works:\n"
                "1. Send a .csv, .tsv or .txt file as a document.\n"
                "2. I check it, queue it and show progress here (with a button to cancel).\n"
                "3. You get the cleaned table (trimmed, duplicates removed, spreadsheet formulas "
                "neutralised) and a profile of every column, in the format you chose with /format."
            ),
            _(
                "I understand UTF-8, Windows-1251 and Latin-1; commas, semicolons, tabs and pipes; "
                "with or without a header row."
            ),
            limits,
            _(
                "Commands:\n"
                "/jobs - your recent files and their state\n"
                "/job <id> - details of one job and its results again\n"
                "/cancel <id> - stop a job\n"
                "/format - the format of the results\n"
                "/language - the bot's language\n"
                "/privacy - what is kept and for how long\n"
                "/delete - delete all your files and jobs\n"
                "/help - this message"
            ),
        ]
    )


def unknown_command(settings: Settings) -> str:
    return _("I don't know that command.") + "\n\n" + help_text(settings)


def not_a_document() -> str:
    return _("Please send the CSV as a file (a document), not as text or a photo.")


def wrong_file_type(file_name: str | None) -> str:
    if not file_name:
        return _("This file doesn't look like a CSV. Please send a .csv, .tsv or .txt file.")
    return _("{name} doesn't look like a CSV. Please send a .csv, .tsv or .txt file.").format(name=file_name)


def too_large(size: int, limit: int) -> str:
    shown, allowed = f.size(size), f.size(limit)
    if shown == allowed:
        # Just over the limit: rounded sizes would read "This file is 20 MB; the limit is 20 MB".
        shown = _("{n} bytes").format(n=count(size))
        allowed = _("{n} bytes").format(n=count(limit)) + f" ({allowed})"
    return _("This file is {size}; the limit is {limit}. Please split it and send the parts.").format(
        size=shown, limit=allowed
    )


def empty_upload() -> str:
    return _("That file is empty: there are no rows to profile.")


def received(file_name: str) -> str:
    return _("Got {name}. Saving it…").format(name=file_name)


def queued(job_id: str) -> str:
    return _("Queued as job {job_id}. I'll update this message as it goes.").format(job_id=job_id)


def progress(job_id: str, stage: str, fraction: float | None = None) -> str:
    name = _(STAGE_NAMES.get(stage, stage))
    if fraction is None:
        return _("Job {job_id}: {stage}").format(job_id=job_id, stage=name)
    return _("Job {job_id}: {stage} {percent}").format(job_id=job_id, stage=name, percent=f.share(fraction))


def done(job_id: str) -> str:
    return _("Job {job_id}: done. Your cleaned file and the column profile follow.").format(job_id=job_id)


def retrying(job_id: str, attempt: int, max_attempts: int) -> str:
    return _(
        "Job {job_id}: a temporary problem on our side; retrying (attempt {attempt} of {max_attempts}). "
        "Your file is safe."
    ).format(job_id=job_id, attempt=attempt + 1, max_attempts=max_attempts)


def waiting_out_outage(job_id: str) -> str:
    return _(
        "Job {job_id}: part of our service is unavailable for a moment; the job goes on by itself "
        "when it is back. Your file is safe, no need to send it again."
    ).format(job_id=job_id)


def result_not_sent(job_id: str) -> str:
    return _(
        "Job {job_id} is done, but I could not send you its results after several tries. "
        "Send /job {job_id} to get them."
    ).format(job_id=job_id)


def failed(job_id: str, reason: str) -> str:
    return _("Job {job_id} could not be completed. {reason}").format(job_id=job_id, reason=reason)


def kept_failing() -> str:
    return _("It kept failing on our side; please send it again.")


def no_jobs() -> str:
    return _("You have no jobs yet. Send me a CSV file to start.")


def job_usage() -> str:
    return _("Usage: /job <id> — the id is in /jobs.")


def jobs_header() -> str:
    return _("Your recent jobs:")


def jobs_footer() -> str:
    return _("Send /job <id> for details.")


def job_line(job_id: str, status: str, file_name: str, created_at: datetime) -> str:
    return f"{job_id} · {status_name(status)} · {file_name} · {f.when(created_at)}"


def job_details(
    *, job_id: str, status: str, file_name: str, file_size: int, created_at: datetime, attempts: int
) -> str:
    return "\n".join(
        [
            _("Job {job_id}: {status}").format(job_id=job_id, status=status_name(status)),
            _("File: {name} ({size})").format(name=file_name, size=f.size(file_size)),
            _("Created: {when}").format(when=f.when(created_at)),
            _("Attempts: {n}").format(n=count(attempts)),
        ]
    )


def job_problem(reason: str) -> str:
    return _("Problem: {reason}").format(reason=reason)


def results_gone() -> str:
    return _("The results of this job are no longer stored.")


def result_caption(job_id: str) -> str:
    return _("Job {job_id}").format(job_id=job_id)


def result_caption_resent(job_id: str) -> str:
    return _("Job {job_id} (sent again)").format(job_id=job_id)


def sent_again(job_id: str) -> str:
    return _("Job {job_id}: your results (sent again).").format(job_id=job_id)


# --- cancelling -----------------------------------------------------------------------------


def cancel_button() -> str:
    return _("Cancel")


def cancel_usage() -> str:
    return _("Usage: /cancel <id> — the id is in /jobs.")


def cancelled(job_id: str) -> str:
    return _("Job {job_id} is cancelled; its files are deleted.").format(job_id=job_id)


def cancelling(job_id: str) -> str:
    return _("Cancelling job {job_id}: it stops at its next step.").format(job_id=job_id)


def not_cancellable(job_id: str, status: str) -> str:
    return _("Job {job_id} is already {status}; there is nothing to cancel.").format(
        job_id=job_id, status=status_name(status)
    )


def button_expired() -> str:
    return _("This button is no longer valid.")


# --- data and privacy -----------------------------------------------------------------------


def privacy_text(settings: Settings) -> str:
    days = settings.retention_days
    kept = ngettext(
        "What I keep: your Telegram id, chat id, username and language; for each file you send, its "
        "name, size, the file itself, the cleaned result and the profile. Files, results and job "
        "records are deleted {days} day after the upload.",
        "What I keep: your Telegram id, chat id, username and language; for each file you send, its "
        "name, size, the file itself, the cleaned result and the profile. Files, results and job "
        "records are deleted {days} days after the upload.",
        days,
    ).format(days=days)
    return "\n\n".join(
        [
            kept,
            _("Nobody else can see your jobs: every command checks that the job is yours."),
            _("/delete removes all your files, results and jobs now; /cancel <id> stops one job."),
        ]
    )


def delete_confirm() -> str:
    return _(
        "Delete all your files, results and jobs? This cannot be undone; jobs in progress are cancelled."
    )


def delete_yes() -> str:
    return _("Yes, delete everything")


def delete_no() -> str:
    return _("No, keep them")


def deleted(jobs: int, files: int) -> str:
    return _("Deleted: {jobs} and {files}. I no longer keep anything about you.").format(
        jobs=ngettext("{n} job", "{n} jobs", jobs).format(n=count(jobs)),
        files=ngettext("{n} stored file", "{n} stored files", files).format(n=count(files)),
    )


def delete_kept() -> str:
    return _("Nothing was deleted.")


# --- preferences ----------------------------------------------------------------------------


def language_prompt() -> str:
    return _("Choose the bot's language:")


def language_set() -> str:
    return _("From now on I speak English.")


def format_prompt(current: str) -> str:
    return _("Results come as: {current}. Choose another format:").format(current=_(FORMAT_NAMES[current]))


def format_set(output_format: str) -> str:
    return _("Results will come as: {format}.").format(format=_(FORMAT_NAMES[output_format]))


def format_name(output_format: str) -> str:
    return _(FORMAT_NAMES[output_format])


# --- operators ------------------------------------------------------------------------------


def limit_usage(current: int, ceiling: int) -> str:
    return _("Session limit is {current} (ceiling {ceiling}). Usage: /limit <1..{ceiling}>").format(
        current=current, ceiling=ceiling
    )


def limit_changed(old: int, new: int) -> str:
    return _("Session limit changed {old} → {new}.").format(old=old, new=new)


def not_admin() -> str:
    return _("This command is for the bot's operators.")


def too_fast() -> str:
    return _("You're sending messages too fast. Please wait a few seconds.")


# --- upload spool and quotas -----------------------------------------------------------------

#: What an upload waited for, at the start of a sentence and inside one.
_DEPENDENCY_NAMES = {
    "storage": N_("File storage"),
    "database": N_("Our database"),
    "broker": N_("Our job queue"),
}
_DEPENDENCY_NAMES_INLINE = {
    "storage": N_("file storage"),
    "database": N_("our database"),
    "broker": N_("our job queue"),
}


_UNKNOWN_DEPENDENCY = N_("A service we depend on")
_UNKNOWN_DEPENDENCY_INLINE = N_("a service we depend on")


def _dependency(name: str) -> str:
    return _(_DEPENDENCY_NAMES.get(name, _UNKNOWN_DEPENDENCY))


def _dependency_inline(name: str) -> str:
    return _(_DEPENDENCY_NAMES_INLINE.get(name, _UNKNOWN_DEPENDENCY_INLINE))


def waiting_for(file_name: str, dependency: str) -> str:
    return _(
        "Got {file_name}. {dependency} isn't answering right now, so I've kept your file here and "
        "will queue it as soon as it's back. No need to send it again."
    ).format(file_name=file_name, dependency=_dependency(dependency))


def _duration(seconds: float) -> str:
    """How long an upload waited ("for 10 minutes": Russian's forms here are accusative)."""
    if seconds < 120:
        n = round(seconds)
        return ngettext("{n} second", "{n} seconds", n).format(n=count(n))
    n = round(seconds / 60)
    return ngettext("{n} minute", "{n} minutes", n).format(n=count(n))


def spool_gave_up(file_name: str, dependency: str, waited_seconds: float) -> str:
    return _(
        "Sorry: {dependency} stayed unavailable for {duration}, so I could not queue {file_name} "
        "and have deleted my copy. Please send it again later."
    ).format(
        dependency=_dependency_inline(dependency), duration=_duration(waited_seconds), file_name=file_name
    )


def spool_full(dependency: str) -> str:
    return _(
        "{dependency} is unavailable right now and I have no room left to keep your file, so it "
        "was not saved. Please send it again in a few minutes."
    ).format(dependency=_dependency(dependency))


def telegram_download_failed(file_name: str) -> str:
    return _(
        "Telegram kept refusing to hand me {file_name} for a minute, so I have not saved it. "
        "Please send it again in a minute."
    ).format(file_name=file_name)


def telegram_file_gone(file_name: str) -> str:
    return _("Telegram would not give me {file_name} (it may have expired). Please send it again.").format(
        file_name=file_name
    )


def spool_failed(file_name: str) -> str:
    return _("Sorry: I could not queue {file_name}. Please send it again.").format(file_name=file_name)


def quota_active_jobs(limit: int) -> str:
    return ngettext(
        "You already have {n} file in progress, the most I take from one person at a time. "
        "Please send this one again when it is done.",
        "You already have {n} files in progress, the most I take from one person at a time. "
        "Please send this one again when one of them is done.",
        limit,
    ).format(n=count(limit))


def quota_daily_bytes(used: int, limit: int) -> str:
    return _(
        "You've sent {used} in the last 24 hours; the limit is {limit} a day. "
        "Please send this file again later."
    ).format(used=f.size(used), limit=f.size(limit))
