"""The rows the repository returns: users and jobs, and the job state machine.

A job moves through these states (each arrow sets the timestamp named beside it)::

    received ──mark_queued──▶ queued ──claim_job──▶ running ──finish_job──▶ done
       │       (queued_at)      │     (started_at)    │  │    (finished_at)
       │                        │                     │  └──fail_job──▶ failed | rejected
       └──────fail_job──────────┴──fail_job───────────┘       (finished_at)
                 ▲                                     │
                 └── queued ◀── fail_job(retryable) or requeue_stale_jobs (lease expired),
                                 while attempts < JOB_MAX_ATTEMPTS (queued_at again)

* ``received``: the bot accepted the upload and recorded it; the input may not be stored yet.
* ``queued``: the input is stored and a task is (about to be) on the queue. The bot marks a job
  queued *before* enqueueing, so a worker that picks the task up at once finds it claimable.
* ``running``: a worker claimed it and holds a lease until ``lease_expires_at``. A running job whose
  lease expired may be claimed again (the worker died); each claim adds one to ``attempts``.
* ``done`` / ``failed`` / ``rejected`` are final: nothing moves a job out of them, so a redelivered
  task finds nothing to claim. ``rejected`` means the user's input was refused (an
  :class:`~service.errors.InputError` kind); ``failed`` means the service could not do the job.

Ownership is fenced: a claim returns ``attempts`` as the claimer's token, and finishing, failing,
retrying or renewing the lease with a token (``attempt=``) takes effect only while ``attempts``
still equals it and the job is ``running``, so a worker that stalled past its lease cannot touch
a job another worker now holds.

Delivery is a step of its own after ``done``: ``finish_job`` hands the delivery to the finishing
worker (``delivery_attempts`` is its token, ``delivery_lease_expires_at`` its lease), each result
document that reached the user gets a row in ``job_deliveries``, and ``mark_delivered`` sets
``delivered_at``. A deliverer that dies or fails lets the sweeper claim the delivery again once
the lease has expired; it sends only the documents without a row.

``created_at`` is the ``received`` time and ``updated_at`` changes with every write.
``queued_at`` and ``started_at`` hold the latest queueing and the latest claim.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from service.errors import InputError


class JobStatus(StrEnum):
    """The states of a job; the string values are what the ``status`` column stores."""

    RECEIVED = "received"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES: frozenset[JobStatus] = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.REJECTED})


def new_job_id() -> str:
    """A fresh job id: 12 hex characters — short enough for a user to type in ``/job <id>``, and
    48 random bits, so a collision is out of reach at this service's volumes. Safe in storage keys."""
    return secrets.token_hex(6)


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC: the only kind of time the repository stores."""
    return datetime.now(UTC)


def input_error_kinds() -> frozenset[str]:
    """Kinds of errors that mean "the user's file was refused": a job failing with one is rejected."""
    kinds: set[str] = set()
    stack: list[type[InputError]] = [InputError]
    while stack:
        cls = stack.pop()
        kinds.add(cls.kind)
        stack.extend(cls.__subclasses__())
    return frozenset(kinds)


def final_status_for(error_kind: str) -> JobStatus:
    """``rejected`` for an input error kind, ``failed`` for anything else."""
    return JobStatus.REJECTED if error_kind in input_error_kinds() else JobStatus.FAILED


@dataclass(frozen=True, slots=True)
class User:
    """A Telegram user who has talked to the bot."""

    user_id: int
    chat_id: int
    username: str | None
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Job:
    """One uploaded file and what became of it. Times are timezone-aware UTC."""

    id: str
    user_id: int
    chat_id: int
    file_name: str
    #: Size of the uploaded file in bytes.
    file_size: int
    status: JobStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_expires_at: datetime | None = None
    #: When the user was sent the result of a done job (``None``: not yet, or not done).
    delivered_at: datetime | None = None
    #: Storage keys of the uploaded file and the two results.
    input_key: str | None = None
    cleaned_key: str | None = None
    profile_key: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
    #: The profile summary of a done job (JSON object).
    summary: dict[str, Any] | None = None
    #: W3C ``traceparent``/``tracestate`` of the upload, so the worker's spans join its trace.
    trace_context: dict[str, str] = field(default_factory=dict)
    #: The Telegram message the worker edits to show progress.
    progress_message_id: int | None = None
    #: When the sweeper last put a task on the queue for this queued job (its own was lost).
    kicked_at: datetime | None = None
    #: Attempts an outage ended while the job could ride it out: not counted against
    #: JOB_MAX_ATTEMPTS (``attempts`` still counts every claim; it is the fencing token).
    outage_retries: int = 0
    #: Claims of the delivery of a done job: the fencing token of whoever sends its result.
    delivery_attempts: int = 0
    #: Until when the current deliverer holds the delivery (``None``: nobody; or delivered).
    delivery_lease_expires_at: datetime | None = None
    #: Why the service gave up delivering a done job's result (``None``: it has not).
    delivery_error: str | None = None

    @property
    def token(self) -> int:
        """The fencing token of the current claim: finish, fail, retry and lease renewal only
        take effect for the worker whose claim returned this ``attempts`` value."""
        return self.attempts


@dataclass(frozen=True, slots=True)
class StaleJobs:
    """What :meth:`Repository.requeue_stale_jobs` did with running jobs whose lease expired."""

    #: Back in ``queued``: the caller enqueues their tasks again.
    requeued: list[Job]
    #: Out of attempts, now ``failed``: the caller tells their users.
    failed: list[Job]


#: The stages of the job path where a job can wait without anyone noticing: its status for an
#: unfinished job, ``undelivered`` for a done job whose result has not reached its user.
WAITING_STAGES: tuple[str, ...] = ("received", "queued", "running", "undelivered")


@dataclass(frozen=True, slots=True)
class JobPathAges:
    """How long the oldest job has waited in each of ``WAITING_STAGES`` (0 when none waits) and
    how many wait there: what the stuck-job and undelivered-result alerts read."""

    oldest_seconds: Mapping[str, float]
    counts: Mapping[str, int]


def complete_status_counts(counts: Mapping[str, int]) -> dict[JobStatus, int]:
    """Job counts for every status, zero where the database had no row for it."""
    return {status: int(counts.get(status.value, 0)) for status in JobStatus}


#: The result documents of a done job, in the order they are sent.
RESULT_DOCUMENTS: tuple[str, ...] = ("cleaned", "profile")


@dataclass(frozen=True, slots=True)
class DeliveryClaims:
    """What :meth:`Repository.claim_deliveries` found among done, undelivered jobs."""

    #: Deliveries this caller now holds (``delivery_attempts`` is its token).
    claimed: list[Job]
    #: Out of delivery attempts: ``delivery_error`` is set, nobody will send them any more.
    abandoned: list[Job]
