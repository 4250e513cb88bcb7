"""The repository's SQL, written once for both backends, and the decoding of its rows.

Statements use ``:name`` placeholders: SQLite understands them natively and the Postgres executor
rewrites them to ``$1, $2, …`` (:func:`to_positional`). To stay portable they avoid casts,
dialect functions and parameters whose type Postgres could not infer from a column (a bare
parameter inside ``CASE`` or ``IS NULL``): every parameter is compared with or assigned to a
column. Times are passed in from Python (timezone-aware UTC) rather than read from the server
clock, so both backends and the tests see the same ``now``.

State transitions are single ``UPDATE … WHERE status … RETURNING`` statements: the ``WHERE``
clause *is* the state machine's guard, so a transition is atomic on both backends (Postgres
re-checks the guard on the locked row; SQLite serialises writers). Rows are read by column name,
so ``*`` is safe when a later migration adds columns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from service.db.models import Job, JobStatus, User

HEALTH = "SELECT 1 AS ok"

UPSERT_USER = """
INSERT INTO users (user_id, chat_id, username, first_seen_at, last_seen_at)
VALUES (:user_id, :chat_id, :username, :now, :now)
ON CONFLICT (user_id) DO UPDATE
   SET chat_id = excluded.chat_id, username = excluded.username, last_seen_at = excluded.last_seen_at
RETURNING *
"""

CREATE_JOB = """
INSERT INTO jobs (id, user_id, chat_id, file_name, file_size, status, attempts, created_at,
                  updated_at, input_key, trace_context, progress_message_id)
VALUES (:id, :user_id, :chat_id, :file_name, :file_size, 'received', 0, :now,
        :now, :input_key, :trace_context, :progress_message_id)
RETURNING *
"""

GET_JOB = "SELECT * FROM jobs WHERE id = :id"

# Only a done job, and only once: the first caller gets the row, a repeat gets nothing.
MARK_DELIVERED = """
UPDATE jobs SET delivered_at = :now, updated_at = :now
WHERE id = :id AND status = 'done' AND delivered_at IS NULL
RETURNING *
"""
GET_JOB_FOR_USER = "SELECT * FROM jobs WHERE id = :id AND user_id = :user_id"
LIST_JOBS = """
SELECT * FROM jobs WHERE user_id = :user_id
ORDER BY created_at DESC, id DESC LIMIT :limit
"""

MARK_QUEUED = """
UPDATE jobs SET status = 'queued', queued_at = :now, updated_at = :now,
                input_key = COALESCE(:input_key, input_key)
WHERE id = :id AND status = 'received'
RETURNING *
"""

# A job never starts more often than JOB_MAX_ATTEMPTS (not counting the attempts an outage ended,
# outage_retries), even when a dead worker's task is redelivered straight to another worker
# without the reaper's help.
CLAIM_JOB = """
UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = :now, updated_at = :now,
                lease_expires_at = :lease_expires_at
WHERE id = :id AND attempts - outage_retries < :max_attempts
  AND (status = 'queued' OR (status = 'running' AND lease_expires_at < :now))
RETURNING *
"""

UPDATE_PROGRESS = """
UPDATE jobs SET progress_message_id = COALESCE(:progress_message_id, progress_message_id),
                lease_expires_at = CASE WHEN status = 'running'
                                        THEN COALESCE(:lease_expires_at, lease_expires_at)
                                        ELSE lease_expires_at END,
                updated_at = :now
WHERE id = :id
RETURNING *
"""

# A previous attempt's error is cleared: "done" means the job succeeded; attempts > 1 tells that
# it needed retries. The finishing worker holds the delivery from here (token and lease).
_FINISH_SET = """
UPDATE jobs SET status = 'done', cleaned_key = :cleaned_key, profile_key = :profile_key,
                summary = :summary, finished_at = :now, updated_at = :now, lease_expires_at = NULL,
                error_kind = NULL, error_message = NULL,
                delivery_attempts = delivery_attempts + 1, delivery_lease_expires_at = :delivery_lease
"""
FINISH_JOB = (
    _FINISH_SET
    + """
WHERE id = :id AND status IN ('queued', 'running')
RETURNING *
"""
)
# Fenced: only the holder of the current claim (its ``attempts``) may finish the job.
FINISH_JOB_FENCED = (
    _FINISH_SET
    + """
WHERE id = :id AND status = 'running' AND attempts = :attempt
RETURNING *
"""
)

# An attempt an outage ended (:outage = 1) of a job created after :outage_cutoff is given back
# (outage_retries): it is retried even when it was the last one.
_RIDES_OUT = "(:outage = 1 AND created_at >= :outage_cutoff)"
_RETRY_SET = f"""
UPDATE jobs SET status = 'queued', queued_at = :now, updated_at = :now, lease_expires_at = NULL,
                error_kind = :error_kind, error_message = :error_message,
                outage_retries = outage_retries + CASE WHEN {_RIDES_OUT} THEN 1 ELSE 0 END
"""  # noqa: S608
RETRY_JOB = (
    _RETRY_SET
    + f"""
WHERE id = :id AND status = 'running' AND (attempts - outage_retries < :max_attempts OR {_RIDES_OUT})
RETURNING *
"""
)
RETRY_JOB_FENCED = (
    _RETRY_SET
    + f"""
WHERE id = :id AND status = 'running' AND (attempts - outage_retries < :max_attempts OR {_RIDES_OUT})
  AND attempts = :attempt
RETURNING *
"""
)

_END_SET = """
UPDATE jobs SET status = :status, finished_at = :now, updated_at = :now, lease_expires_at = NULL,
                error_kind = :error_kind, error_message = :error_message
"""
END_JOB = (
    _END_SET
    + """
WHERE id = :id AND status IN ('received', 'queued', 'running')
RETURNING *
"""
)
END_JOB_FENCED = (
    _END_SET
    + """
WHERE id = :id AND status = 'running' AND attempts = :attempt
RETURNING *
"""
)

RENEW_LEASE = """
UPDATE jobs SET lease_expires_at = :lease_expires_at, updated_at = :now
WHERE id = :id AND status = 'running' AND attempts = :attempt
RETURNING *
"""

REQUEUE_STALE = """
UPDATE jobs SET status = 'queued', queued_at = :now, updated_at = :now, lease_expires_at = NULL,
                error_kind = :error_kind, error_message = :error_message
WHERE status = 'running' AND lease_expires_at < :now AND attempts - outage_retries < :max_attempts
RETURNING *
"""

FAIL_STALE = """
UPDATE jobs SET status = 'failed', finished_at = :now, updated_at = :now, lease_expires_at = NULL,
                error_kind = :error_kind, error_message = :error_message
WHERE status = 'running' AND lease_expires_at < :now AND attempts - outage_retries >= :max_attempts
RETURNING *
"""

# --- the sweeper: tasks lost on the way, results not delivered -----------------------------------
# Each is one UPDATE whose WHERE repeats the subquery's conditions: two sweepers racing for the
# same rows (Postgres re-checks the outer WHERE on the locked row) never both take one.

# A queued job nobody claimed since ``cutoff`` has lost its task; the caller kicks it again.
KICK_STALE_QUEUED = """
UPDATE jobs SET kicked_at = :now, updated_at = :now
WHERE status = 'queued' AND COALESCE(kicked_at, queued_at) <= :cutoff
  AND id IN (SELECT id FROM jobs WHERE status = 'queued' AND COALESCE(kicked_at, queued_at) <= :cutoff
             ORDER BY queued_at LIMIT :limit)
RETURNING *
"""

# A received job whose input is stored, left by a bot that stopped before marking it queued.
RESUME_RECEIVED = """
UPDATE jobs SET status = 'queued', queued_at = :now, kicked_at = :now, updated_at = :now
WHERE status = 'received' AND input_key IS NOT NULL AND created_at <= :cutoff
  AND id IN (SELECT id FROM jobs WHERE status = 'received' AND input_key IS NOT NULL
               AND created_at <= :cutoff ORDER BY created_at LIMIT :limit)
RETURNING *
"""

_UNDELIVERED = """status = 'done' AND delivered_at IS NULL AND delivery_error IS NULL
  AND (delivery_lease_expires_at IS NULL OR delivery_lease_expires_at < :now)"""

# S608: the f-strings splice a constant fragment, never input.
CLAIM_DELIVERIES = f"""
UPDATE jobs SET delivery_attempts = delivery_attempts + 1, delivery_lease_expires_at = :lease,
                updated_at = :now
WHERE {_UNDELIVERED} AND delivery_attempts < :max_attempts
  AND id IN (SELECT id FROM jobs WHERE {_UNDELIVERED} AND delivery_attempts < :max_attempts
             ORDER BY finished_at LIMIT :limit)
RETURNING *
"""  # noqa: S608

ABANDON_DELIVERIES = f"""
UPDATE jobs SET delivery_error = :error, delivery_lease_expires_at = NULL, updated_at = :now
WHERE {_UNDELIVERED} AND delivery_attempts >= :max_attempts
RETURNING *
"""  # noqa: S608

# --- delivery, fenced by the delivery token ----------------------------------------------------
# The guard also locks the job row until the transaction ends, so no claim can slip in between
# the check and the insert that follows it.
GUARD_DELIVERY = """
UPDATE jobs SET updated_at = :now
WHERE id = :id AND status = 'done' AND delivered_at IS NULL AND delivery_attempts = :attempt
RETURNING id
"""
RECORD_DOCUMENT = """
INSERT INTO job_deliveries (job_id, document, attempt, delivered_at)
VALUES (:id, :document, :attempt, :now)
ON CONFLICT (job_id, document) DO NOTHING
"""
DELIVERED_DOCUMENTS = "SELECT document FROM job_deliveries WHERE job_id = :id"

MARK_DELIVERED_FENCED = """
UPDATE jobs SET delivered_at = :now, updated_at = :now, delivery_lease_expires_at = NULL
WHERE id = :id AND status = 'done' AND delivered_at IS NULL AND delivery_attempts = :attempt
RETURNING *
"""
# The current deliverer extends its lease while it sends (retries and 429 waits can outlast it).
RENEW_DELIVERY = """
UPDATE jobs SET delivery_lease_expires_at = :lease, updated_at = :now
WHERE id = :id AND status = 'done' AND delivered_at IS NULL AND delivery_error IS NULL
  AND delivery_attempts = :attempt
RETURNING id
"""
# A failed delivery attempt: the lease now ends at the next try, so the sweeper retries then.
RELEASE_DELIVERY = """
UPDATE jobs SET delivery_lease_expires_at = :retry_at, updated_at = :now
WHERE id = :id AND status = 'done' AND delivered_at IS NULL AND delivery_attempts = :attempt
RETURNING *
"""
GIVE_UP_DELIVERY = """
UPDATE jobs SET delivery_error = :error, delivery_lease_expires_at = NULL, updated_at = :now
WHERE id = :id AND status = 'done' AND delivered_at IS NULL AND delivery_attempts = :attempt
RETURNING *
"""

COUNT_BY_STATUS = "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status"

# Where jobs wait (models.WAITING_STAGES), each with the time its oldest job entered it.
JOB_PATH_AGES = """
SELECT 'received' AS stage, MIN(created_at) AS oldest, COUNT(*) AS n FROM jobs WHERE status = 'received'
UNION ALL
SELECT 'queued', MIN(queued_at), COUNT(*) FROM jobs WHERE status = 'queued'
UNION ALL
SELECT 'running', MIN(started_at), COUNT(*) FROM jobs WHERE status = 'running'
UNION ALL
SELECT 'undelivered', MIN(finished_at), COUNT(*) FROM jobs
WHERE status = 'done' AND delivered_at IS NULL AND delivery_error IS NULL
"""

_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=64)
def to_positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``:name`` placeholders → ``$n`` (the same name reuses its number) and the name order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)


def encode_json(value: Mapping[str, Any] | None) -> str | None:
    """JSON text for a JSON column; both drivers take and return text."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _decode_json(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return value
    return json.loads(value)


def parse_timestamp(value: Any) -> datetime | None:
    """A stored time as aware UTC: asyncpg returns datetimes, SQLite ISO-8601 text."""
    if value is None:
        return None
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return stamp.astimezone(UTC)


def _required_timestamp(value: Any) -> datetime:
    stamp = parse_timestamp(value)
    if stamp is None:
        raise ValueError("a required timestamp column is NULL")
    return stamp


def job_from_row(row: Mapping[str, Any]) -> Job:
    return Job(
        id=row["id"],
        user_id=int(row["user_id"]),
        chat_id=int(row["chat_id"]),
        file_name=row["file_name"],
        file_size=int(row["file_size"]),
        status=JobStatus(row["status"]),
        attempts=int(row["attempts"]),
        outage_retries=int(row["outage_retries"]),
        created_at=_required_timestamp(row["created_at"]),
        updated_at=_required_timestamp(row["updated_at"]),
        queued_at=parse_timestamp(row["queued_at"]),
        started_at=parse_timestamp(row["started_at"]),
        finished_at=parse_timestamp(row["finished_at"]),
        lease_expires_at=parse_timestamp(row["lease_expires_at"]),
        delivered_at=parse_timestamp(row["delivered_at"]),
        input_key=row["input_key"],
        cleaned_key=row["cleaned_key"],
        profile_key=row["profile_key"],
        error_kind=row["error_kind"],
        error_message=row["error_message"],
        summary=_decode_json(row["summary"]),
        trace_context=_decode_json(row["trace_context"]) or {},
        progress_message_id=row["progress_message_id"],
        kicked_at=parse_timestamp(row["kicked_at"]),
        delivery_attempts=int(row["delivery_attempts"]),
        delivery_lease_expires_at=parse_timestamp(row["delivery_lease_expires_at"]),
        delivery_error=row["delivery_error"],
    )


def user_from_row(row: Mapping[str, Any]) -> User:
    return User(
        user_id=int(row["user_id"]),
        chat_id=int(row["chat_id"]),
        username=row["username"],
        first_seen_at=_required_timestamp(row["first_seen_at"]),
        last_seen_at=_required_timestamp(row["last_seen_at"]),
    )
