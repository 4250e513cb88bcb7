"""Everything csvbot says to a Telegram user, in one place.

Plain text only (no parse mode): file names and cell values are user data and must never be
interpreted as markup.
"""

from __future__ import annotations

from service.config import Settings

MiB = 1024 * 1024


def _mb(n: int) -> str:
    return f"{n / MiB:.0f} MB" if n >= MiB else f"{n / 1024:.0f} KB"


def start_text(settings: Settings) -> str:
    return (
        "Hi! Send me a CSV file and I'll send back a profile of its columns and a cleaned copy.\n\n"
        + help_text(settings)
    )


def help_text(settings: Settings) -> str:
    return (
        "How it works:\n"
        "1. Send a .csv, .tsv or .txt file as a document.\n"
        "2. I check it, queue it and show progress here.\n"
        "3. You get a cleaned CSV (UTF-8, comma-separated, trimmed, duplicates removed, "
        "spreadsheet formulas neutralised) and a profile of every column.\n\n"
        "I understand UTF-8, Windows-1251 and Latin-1; commas, semicolons, tabs and pipes; "
        "with or without a header row.\n\n"
        f"Limits: {_mb(settings.max_upload_bytes)} per file, {settings.max_rows:,} rows, "
        f"{settings.max_columns:,} columns, {settings.max_field_chars:,} characters per cell.\n\n"
        "Commands:\n"
        "/jobs - your recent files and their state\n"
        "/job <id> - details of one job and a fresh download link\n"
        "/help - this message"
    )


def not_a_document() -> str:
    return "Please send the CSV as a file (a document), not as text or a photo."


def wrong_file_type(file_name: str | None) -> str:
    shown = file_name or "this file"
    return f"{shown} doesn't look like a CSV. Please send a .csv, .tsv or .txt file."


def too_large(size: int, limit: int) -> str:
    shown, allowed = _mb(size), _mb(limit)
    if shown == allowed:
        # Just over the limit: rounded sizes would read "This file is 20 MB; the limit is 20 MB".
        shown, allowed = f"{size:,} bytes", f"{limit:,} bytes ({allowed})"
    return f"This file is {shown}; the limit is {allowed}. Please split it and send the parts."


def empty_upload() -> str:
    return "That file is empty: there are no rows to profile."


def received(file_name: str) -> str:
    return f"Got {file_name}. Saving it…"


def queued(job_id: str) -> str:
    return f"Queued as job {job_id}. I'll update this message as it goes."


def progress(job_id: str, stage: str, fraction: float | None = None) -> str:
    pct = f" {fraction * 100:.0f}%" if fraction is not None else ""
    return f"Job {job_id}: {stage}{pct}"


def done(job_id: str) -> str:
    return f"Job {job_id}: done. Your cleaned file and the column profile follow."


def retrying(job_id: str, attempt: int, max_attempts: int) -> str:
    return (
        f"Job {job_id}: a temporary problem on our side; retrying "
        f"(attempt {attempt + 1} of {max_attempts}). Your file is safe."
    )


def failed(job_id: str, reason: str) -> str:
    return f"Job {job_id} could not be completed. {reason}"


def no_jobs() -> str:
    return "You have no jobs yet. Send me a CSV file to start."


def job_usage() -> str:
    return "Usage: /job <id> — the id is in /jobs."


def limit_usage(current: int, ceiling: int) -> str:
    return f"Session limit is {current} (ceiling {ceiling}). Usage: /limit <1..{ceiling}>"


def limit_changed(old: int, new: int) -> str:
    return f"Session limit changed {old} → {new}."


def not_admin() -> str:
    return "This command is for the bot's operators."


def too_fast() -> str:
    return "You're sending messages too fast. Please wait a few seconds."


# --- upload spool and quotas -----------------------------------------------------------------

_DEPENDENCY_NAMES = {"storage": "File storage", "database": "Our database", "broker": "Our job queue"}


def _dependency(name: str) -> str:
    return _DEPENDENCY_NAMES.get(name, "A service we depend on")


def waiting_for(file_name: str, dependency: str) -> str:
    return (
        f"Got {file_name}. {_dependency(dependency)} isn't answering right now, so I've kept your "
        "file here and will queue it as soon as it's back. No need to send it again."
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    return f"{seconds / 60:.0f} minutes"


def spool_gave_up(file_name: str, dependency: str, waited_seconds: float) -> str:
    return (
        f"Sorry: {_dependency(dependency).lower()} stayed unavailable for {_duration(waited_seconds)}, so I "
        f"could not queue {file_name} and have deleted my copy. Please send it again later."
    )


def spool_full(dependency: str) -> str:
    return (
        f"{_dependency(dependency)} is unavailable right now and I have no room left to keep your "
        "file, so it was not saved. Please send it again in a few minutes."
    )


def spool_failed(file_name: str) -> str:
    return f"Sorry: I could not queue {file_name}. Please send it again."


def quota_active_jobs(limit: int) -> str:
    return (
        f"You already have {limit} {'file' if limit == 1 else 'files'} in progress, the most I take "
        "from one person at a time. "
        "Please send this one again when one of them is done."
    )


def quota_daily_bytes(used: int, limit: int) -> str:
    return (
        f"You've sent {_mb(used)} in the last 24 hours; the limit is {_mb(limit)} a day. "
        "Please send this file again later."
    )
