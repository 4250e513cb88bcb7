"""Users' preferences and control over their jobs and data: the queries, for both backends.

A mixin of :class:`~service.db.sql_repository.SqlRepository` (its ``_query`` and ``_clock``), so
the SQL, instrumentation and typed errors are the repository's own; kept apart from the job path
so each file has one job. Protocol :class:`UserDataStore` is the interface
:class:`~service.db.repository.Repository` adds.

Cancelling ends a job ``rejected`` with ``error_kind = 'cancelled'`` (the user stopped it; the
service worked): a final state, so the state machine's own guards keep a cancelled job from being
claimed, finished or failed afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.db import sql
from service.db.models import Job, JobStatus
from service.errors import JobNotFoundError

CANCELLED_KIND = "cancelled"
CANCELLED_MESSAGE = "cancelled by the user"
OUTPUT_FORMATS: tuple[str, ...] = ("csv", "csv_excel", "xlsx")

REMEMBER_USER = """
INSERT INTO users (user_id, chat_id, username, first_seen_at, last_seen_at, language_code)
VALUES (:user_id, :chat_id, :username, :now, :now, :language_code)
ON CONFLICT (user_id) DO UPDATE
   SET chat_id = excluded.chat_id, username = excluded.username,
       last_seen_at = excluded.last_seen_at,
       language_code = COALESCE(excluded.language_code, users.language_code)
RETURNING user_id, language, language_code, output_format
"""
GET_USER_PREFS = "SELECT user_id, language, language_code, output_format FROM users WHERE user_id = :user_id"
SET_LANGUAGE = """
UPDATE users SET language = :language WHERE user_id = :user_id
RETURNING user_id, language, language_code, output_format
"""
SET_OUTPUT_FORMAT = """
UPDATE users SET output_format = :output_format WHERE user_id = :user_id
RETURNING user_id, language, language_code, output_format
"""
GET_OWN_JOB = "SELECT * FROM jobs WHERE id = :id AND user_id = :user_id"
CANCEL_JOB = """
UPDATE jobs SET status = 'rejected', finished_at = :now, updated_at = :now, lease_expires_at = NULL,
                error_kind = :error_kind, error_message = :error_message
WHERE id = :id AND user_id = :user_id AND status IN ('received', 'queued', 'running')
RETURNING *
"""
LIST_USER_JOBS = "SELECT * FROM jobs WHERE user_id = :user_id ORDER BY created_at"
DELETE_USER_JOBS = "DELETE FROM jobs WHERE user_id = :user_id"
DELETE_USER = "DELETE FROM users WHERE user_id = :user_id"
# Running jobs are left to finish (or to the reaper): their worker still owns their files.
EXPIRED_JOBS = """
SELECT * FROM jobs WHERE created_at < :cutoff AND status <> 'running'
ORDER BY created_at LIMIT :limit
"""
DELETE_JOB = "DELETE FROM jobs WHERE id = :id AND status <> 'running' RETURNING id"
SET_FILE_IDS = """
UPDATE jobs SET cleaned_file_id = COALESCE(:cleaned_file_id, cleaned_file_id),
                profile_file_id = COALESCE(:profile_file_id, profile_file_id), updated_at = :now
WHERE id = :id
RETURNING id
"""
GET_FILE_IDS = "SELECT cleaned_file_id, profile_file_id FROM jobs WHERE id = :id"


@dataclass(frozen=True, slots=True)
class UserPrefs:
    user_id: int
    #: The explicit /language choice, or ``None``.
    language: str | None
    #: Telegram's language_code as last seen.
    language_code: str | None
    #: ``csv``, ``csv_excel``, ``xlsx``, or ``None`` for the language's default.
    output_format: str | None


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A job :meth:`UserDataStore.cancel_job` ended, and the state it was in before."""

    job: Job
    previous: JobStatus


def is_cancelled(job: Job) -> bool:
    return job.status is JobStatus.REJECTED and job.error_kind == CANCELLED_KIND


class UserDataStore(Protocol):
    async def remember_user(
        self, *, user_id: int, chat_id: int, username: str | None, language_code: str | None
    ) -> UserPrefs:
        """Create or refresh the user (with Telegram's language code); their preferences."""
        ...

    async def get_user_prefs(self, user_id: int) -> UserPrefs | None: ...

    async def set_language(self, user_id: int, language: str | None) -> UserPrefs | None: ...

    async def set_output_format(self, user_id: int, output_format: str | None) -> UserPrefs | None: ...

    async def cancel_job(self, job_id: str, user_id: int) -> Cancelled | None:
        """End ``user_id``'s unfinished job as cancelled; ``None`` if it is final already.
        :class:`~service.errors.JobNotFoundError` if it is missing or another user's."""
        ...

    async def list_user_jobs(self, user_id: int) -> list[Job]:
        """Every job of the user, oldest first."""
        ...

    async def delete_user_data(self, user_id: int) -> None:
        """Delete the user's job rows and the user row (their stored files go first, elsewhere)."""
        ...

    async def expired_jobs(self, cutoff: datetime, limit: int) -> list[Job]:
        """Jobs created before ``cutoff`` that are not running, oldest first."""
        ...

    async def delete_jobs(self, job_ids: Sequence[str]) -> int:
        """Delete these job rows (running ones excepted); how many went."""
        ...

    async def set_result_file_ids(
        self, job_id: str, cleaned_file_id: str | None, profile_file_id: str | None
    ) -> None:
        """Record the file ids of the documents sent; ``None`` leaves that document's id as it is
        (a deliverer that took over sends only what was missing)."""
        ...

    async def result_file_ids(self, job_id: str) -> tuple[str, str] | None:
        """The Telegram file ids of the job's sent results, if both are known."""
        ...


class UserDataQueries:
    """The :class:`UserDataStore` methods over the repository's instrumented sessions."""

    _clock: Callable[[], datetime]

    def _query(self, name: str) -> AbstractAsyncContextManager[Any]:  # provided by SqlRepository
        raise NotImplementedError

    async def remember_user(
        self, *, user_id: int, chat_id: int, username: str | None, language_code: str | None
    ) -> UserPrefs:
        params = {
            "user_id": user_id,
            "chat_id": chat_id,
            "username": username,
            "language_code": language_code,
            "now": self._clock(),
        }
        async with self._query("remember_user") as db:
            row = await db.fetch_one(REMEMBER_USER, params)
        assert row is not None  # an upsert always returns its row
        return _prefs(row)

    async def get_user_prefs(self, user_id: int) -> UserPrefs | None:
        async with self._query("get_user_prefs") as db:
            row = await db.fetch_one(GET_USER_PREFS, {"user_id": user_id})
        return None if row is None else _prefs(row)

    async def set_language(self, user_id: int, language: str | None) -> UserPrefs | None:
        async with self._query("set_user_prefs") as db:
            row = await db.fetch_one(SET_LANGUAGE, {"user_id": user_id, "language": language})
        return None if row is None else _prefs(row)

    async def set_output_format(self, user_id: int, output_format: str | None) -> UserPrefs | None:
        if output_format is not None and output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, not {output_format!r}")
        async with self._query("set_user_prefs") as db:
            row = await db.fetch_one(SET_OUTPUT_FORMAT, {"user_id": user_id, "output_format": output_format})
        return None if row is None else _prefs(row)

    async def cancel_job(self, job_id: str, user_id: int) -> Cancelled | None:
        own = {"id": job_id, "user_id": user_id}
        params = {
            **own,
            "now": self._clock(),
            "error_kind": CANCELLED_KIND,
            "error_message": CANCELLED_MESSAGE,
        }
        async with self._query("cancel_job") as db, db.transaction():
            before = await db.fetch_one(GET_OWN_JOB, own)
            if before is None:
                raise JobNotFoundError(f"job {job_id} not found")
            row = await db.fetch_one(CANCEL_JOB, params)
        if row is None:
            return None
        return Cancelled(job=sql.job_from_row(row), previous=JobStatus(before["status"]))

    async def list_user_jobs(self, user_id: int) -> list[Job]:
        async with self._query("list_user_jobs") as db:
            rows = await db.fetch_all(LIST_USER_JOBS, {"user_id": user_id})
        return [sql.job_from_row(row) for row in rows]

    async def delete_user_data(self, user_id: int) -> None:
        async with self._query("delete_user_data") as db, db.transaction():
            await db.fetch_all(DELETE_USER_JOBS, {"user_id": user_id})
            await db.fetch_all(DELETE_USER, {"user_id": user_id})

    async def expired_jobs(self, cutoff: datetime, limit: int) -> list[Job]:
        async with self._query("expired_jobs") as db:
            rows = await db.fetch_all(EXPIRED_JOBS, {"cutoff": cutoff, "limit": limit})
        return [sql.job_from_row(row) for row in rows]

    async def delete_jobs(self, job_ids: Sequence[str]) -> int:
        deleted = 0
        async with self._query("delete_jobs") as db, db.transaction():
            for job_id in job_ids:
                rows = await db.fetch_all(DELETE_JOB, {"id": job_id})
                deleted += len(rows)
        return deleted

    async def set_result_file_ids(
        self, job_id: str, cleaned_file_id: str | None, profile_file_id: str | None
    ) -> None:
        params = {
            "id": job_id,
            "cleaned_file_id": cleaned_file_id,
            "profile_file_id": profile_file_id,
            "now": self._clock(),
        }
        async with self._query("result_file_ids") as db:
            await db.fetch_one(SET_FILE_IDS, params)

    async def result_file_ids(self, job_id: str) -> tuple[str, str] | None:
        async with self._query("result_file_ids") as db:
            row = await db.fetch_one(GET_FILE_IDS, {"id": job_id})
        if row is None or not row["cleaned_file_id"] or not row["profile_file_id"]:
            return None
        return str(row["cleaned_file_id"]), str(row["profile_file_id"])


def _prefs(row: Mapping[str, Any]) -> UserPrefs:
    return UserPrefs(
        user_id=int(row["user_id"]),
        language=row["language"],
        language_code=row["language_code"],
        output_format=row["output_format"],
    )
