"""The one interface the bot and the workers use to read and write users and jobs.

Two backends implement it with the same SQL and the same contract tests:
:class:`~service.db.postgres.PostgresRepository` (production, Supabase) and
:class:`~service.db.sqlite.SqliteRepository` (the embedded default). Build one with
:func:`service.db.open_repository`.

Every method is one named query (``telemetry.labels.DB_QUERIES``): a span ``db.<query>``, a
``csvbot_db_query_duration_seconds{query}`` observation, and typed errors only —
:class:`~service.errors.DatabaseUnavailableError` when the database cannot be reached (retryable),
:class:`~service.errors.PoolExhaustedError` when no session frees up within
``DB_ACQUIRE_TIMEOUT_SECONDS`` (retryable), :class:`~service.errors.JobNotFoundError` for a
missing job. State-changing methods return the updated job, or ``None`` when the job's state did
not allow the change (see the state machine in :mod:`service.db.models`), so a redelivered task or
a repeated call is a harmless no-op that the caller can recognise.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

from service.db.limit_store import LimitChange
from service.db.models import DeliveryClaims, Job, JobPathAges, JobStatus, StaleJobs, User
from service.db.quota_sql import UserUsage
from service.db.userdata import UserDataStore

LimitSource = Literal["operator", "alerts", "adaptive"]


class Repository(UserDataStore, Protocol):
    """Users, jobs and the database session limit (and, from :class:`UserDataStore`, users'
    preferences and control over their jobs and data)."""

    #: ``"postgres"`` or ``"sqlite"``.
    backend: str

    # --- session limit (service-wide, stored) and this process's pool -----------------------

    #: False on SQLite: one connection, nothing to tune.
    tunable: bool

    @property
    def session_limit(self) -> int:
        """The service-wide limit as this process last read it (starts at SUPABASE_SESSION_LIMIT)."""
        ...

    @property
    def session_limit_ceiling(self) -> int:
        """The highest limit accepted: SUPABASE_SESSION_LIMIT_MAX, and never past the budget."""
        ...

    @property
    def pool_sessions(self) -> int:
        """Sessions this process may hold now: its grant of the connection budget."""
        ...

    @property
    def open_connections(self) -> int: ...

    async def set_session_limit(
        self, new_limit: int, *, source: LimitSource, actor: str, reason: str
    ) -> LimitChange:
        """Store a new service-wide limit with who and why; every process applies it within seconds.

        Raises :class:`~service.errors.ConfigError` naming ``SUPABASE_SESSION_LIMIT`` unless
        ``1 <= new_limit <= session_limit_ceiling`` and the backend is :attr:`tunable`.
        """
        ...

    async def read_session_limit(self, *, reserve: bool = False) -> LimitChange | None:
        """The newest stored change (None: the service runs on SUPABASE_SESSION_LIMIT)."""
        ...

    async def session_limit_history(self, count: int = 5) -> list[LimitChange]: ...

    def adopt_session_limit(self, limit: int) -> None: ...

    async def resize_pool(self, sessions: int) -> None: ...

    # --- users ------------------------------------------------------------------------------

    async def upsert_user(self, *, user_id: int, chat_id: int, username: str | None) -> User:
        """Record that a user was seen now (first time: create; later: refresh chat and name)."""
        ...

    # --- jobs: the bot's side ---------------------------------------------------------------

    async def create_job(
        self,
        *,
        user_id: int,
        chat_id: int,
        file_name: str,
        file_size: int,
        job_id: str | None = None,
        input_key: str | None = None,
        trace_context: Mapping[str, str] | None = None,
        progress_message_id: int | None = None,
    ) -> Job:
        """Insert a ``received`` job (id: ``job_id`` or :func:`new_job_id`). The user must exist."""
        ...

    async def mark_queued(self, job_id: str, *, input_key: str | None = None) -> Job | None:
        """``received`` → ``queued`` (storing ``input_key`` if given); ``None`` if not received."""
        ...

    async def get_job(self, job_id: str) -> Job:
        """The job, or :class:`~service.errors.JobNotFoundError`."""
        ...

    async def get_job_for_user(self, job_id: str, user_id: int) -> Job:
        """The job if it is ``user_id``'s; :class:`JobNotFoundError` if missing *or* another's."""
        ...

    async def list_jobs(self, user_id: int, limit: int = 10) -> list[Job]:
        """The user's most recent jobs, newest first."""
        ...

    # --- jobs: the worker's side ------------------------------------------------------------

    async def claim_job(self, job_id: str, lease_seconds: float) -> Job | None:
        """Atomically take a job to work on: ``queued`` (or ``running`` with an expired lease)
        becomes ``running`` with ``attempts + 1`` and a lease of ``lease_seconds``.

        ``None`` when the job is in any other state (another worker holds it, or it is final):
        of N concurrent claims exactly one wins. Raises :class:`JobNotFoundError` if missing.
        """
        ...

    async def update_progress(
        self,
        job_id: str,
        *,
        progress_message_id: int | None = None,
        lease_seconds: float | None = None,
    ) -> Job:
        """Store the progress message id and/or extend a running job's lease to now + seconds."""
        ...

    async def renew_lease(self, job_id: str, *, attempt: int, lease_seconds: float) -> Job | None:
        """Extend a running job's lease to now + ``lease_seconds`` for the holder of claim
        ``attempt`` only; ``None`` if that claim is no longer current (fenced)."""
        ...

    async def finish_job(
        self,
        job_id: str,
        *,
        cleaned_key: str | None,
        profile_key: str | None,
        summary: Mapping[str, Any] | None,
        attempt: int | None = None,
    ) -> Job | None:
        """``queued``/``running`` → ``done`` with the output keys and profile summary; the caller
        now holds the delivery (``delivery_attempts`` is its token, for ``JOB_LEASE_SECONDS``).

        With ``attempt`` (the fencing token of the caller's claim) only a ``running`` job whose
        ``attempts`` still equals it is finished. ``None`` if the job was already final or the
        claim is stale. Raises :class:`JobNotFoundError` if missing.
        """
        ...

    async def mark_delivered(self, job_id: str, *, delivery_attempt: int | None = None) -> Job | None:
        """Record that the result of a ``done`` job reached the user; ``None`` if the job is not
        done or was already marked (so a redelivered task can tell whether to send it again), or
        — with ``delivery_attempt`` — if another deliverer has claimed the delivery since."""
        ...

    async def fail_job(
        self,
        job_id: str,
        *,
        kind: str,
        message: str,
        retryable: bool,
        attempt: int | None = None,
        outage: bool = False,
    ) -> Job | None:
        """Record a failure: a retryable failure of a ``running`` job with attempts left goes back
        to ``queued`` (the caller enqueues it again); anything else ends ``rejected`` (input error
        kinds) or ``failed``. ``outage``: the attempt ended because a dependency was down; a job
        younger than JOB_OUTAGE_RIDE_OUT_SECONDS then goes back to ``queued`` even from its last
        attempt, which is not counted against JOB_MAX_ATTEMPTS (``outage_retries`` grows).
        ``None`` if the job was already final, or — with ``attempt`` — if the caller's claim is no
        longer the current one (then nothing changed).
        """
        ...

    # --- recovery: the sweeper (service/db/recovery.py) ------------------------------------

    async def kick_stale_queued(self, *, stale_after: float, limit: int = 100) -> list[Job]:
        """Queued jobs untouched (queued or kicked) for ``stale_after`` seconds, stamped
        ``kicked_at`` = now: the caller puts their tasks on the queue again. Of two concurrent
        callers, each job goes to one."""
        ...

    async def resume_received(self, *, stale_after: float, limit: int = 100) -> list[Job]:
        """``received`` jobs older than ``stale_after`` seconds whose input is stored
        (``input_key`` set) → ``queued``: the caller kicks them. A received row without an input
        key is left alone (whoever creates it is still storing the input)."""
        ...

    async def claim_deliveries(
        self, *, max_attempts: int, lease_seconds: float, limit: int = 100, error: str = ""
    ) -> DeliveryClaims:
        """Done, undelivered jobs whose delivery lease expired (or that never had one): claimed
        for the caller (``delivery_attempts + 1`` is its token, leased for ``lease_seconds``)
        while fewer than ``max_attempts`` claims were made; those past it are abandoned
        (``delivery_error`` set)."""
        ...

    # --- recovery: delivery, fenced by the delivery token -----------------------------------

    async def record_document_delivered(self, job_id: str, document: str, *, delivery_attempt: int) -> bool:
        """Record that one result document (``models.RESULT_DOCUMENTS``) reached the user. The
        record is kept whoever sent it; ``False`` if ``delivery_attempt`` is no longer the current
        claim (the caller must send nothing more)."""
        ...

    async def renew_delivery(self, job_id: str, *, delivery_attempt: int, lease_seconds: float) -> bool:
        """Extend the delivery lease of the current deliverer to ``lease_seconds`` from now;
        ``False`` if ``delivery_attempt`` is no longer the current claim (or the job is delivered
        or given up): the caller must send nothing more."""
        ...

    async def delivered_documents(self, job_id: str) -> frozenset[str]:
        """The result documents of the job already recorded as delivered."""
        ...

    async def release_delivery(
        self, job_id: str, *, delivery_attempt: int, retry_in_seconds: float
    ) -> Job | None:
        """A failed delivery attempt: let the sweeper claim it again ``retry_in_seconds`` from now."""
        ...

    async def give_up_delivery(self, job_id: str, *, delivery_attempt: int, error: str) -> Job | None:
        """Stop delivering (a permanent refusal, such as a chat that blocked the bot)."""
        ...

    async def requeue_stale_jobs(self, now: datetime | None = None) -> StaleJobs:
        """Running jobs whose lease expired before ``now``: requeued while attempts are left,
        failed (kind ``internal``) once they are used up."""
        ...

    async def count_jobs_by_status(self) -> dict[JobStatus, int]:
        """How many jobs are in each state (every status present, zero included)."""
        ...

    async def job_path_ages(self) -> JobPathAges:
        """How long the oldest job has waited received, queued, running, and done but not
        delivered (0 where none waits), and how many wait in each."""
        ...

    # --- per-user quotas --------------------------------------------------------------------

    async def user_usage(self, user_id: int, since: datetime) -> UserUsage:
        """The user's jobs in flight and the bytes of jobs created since ``since``."""
        ...

    # --- lifecycle --------------------------------------------------------------------------

    async def health(self) -> None:
        """A round trip to the database; raises :class:`DatabaseUnavailableError` if it fails."""
        ...

    async def aclose(self) -> None:
        """Close every connection. Idempotent; calls after it raise DatabaseUnavailableError."""
        ...
