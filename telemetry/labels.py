"""Closed sets of label values, declared once beside the metric catalogue.

Every label of every csvbot metric takes its values from one of these tuples. The catalogue
pre-initialises each combination so that rates and alerts see 0 instead of "no data", and a test
walks the registry and fails on any value that is not listed here. User ids, chat ids, job ids,
file names and exception texts never become label values: they go to logs and span attributes.

``telemetry`` may not import ``service``; ``ERROR_KINDS`` therefore restates the kinds of
``service/errors.py`` and a unit test checks that the two stay equal.
"""

from __future__ import annotations

#: Every ``kind`` of service/errors.py (checked by tests/unit/telemetry/test_labels.py).
ERROR_KINDS: tuple[str, ...] = (
    "bad_encoding",
    "broker_unavailable",
    "config",
    "db_pool_exhausted",
    "db_unavailable",
    "empty_file",
    "field_too_long",
    "flood_limited",
    "internal",
    "invalid_input",
    "job_not_found",
    "malformed_csv",
    "not_csv",
    "processing_timeout",
    "quota_exceeded",
    "storage_integrity",
    "storage_not_found",
    "storage_rejected",
    "storage_timeout",
    "storage_unavailable",
    "telegram_file_gone",
    "telegram_unavailable",
    "too_large",
    "too_many_columns",
    "too_many_rows",
)

#: Which part of the service an error was counted in.
COMPONENTS: tuple[str, ...] = ("bot", "worker", "storage", "db", "csv", "telegram")

#: The two processes csvbot runs as (``service.name`` is ``csvbot-<service>``).
SERVICES: tuple[str, ...] = ("bot", "worker")

#: Log levels as logging names them, lower-cased.
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")

# --- storage ---------------------------------------------------------------------------------
STORAGE_OPERATIONS: tuple[str, ...] = ("upload", "upload_file", "download", "sign", "delete", "health")
#: ``ok`` or the kind of the storage error that ended the call.
STORAGE_OUTCOMES: tuple[str, ...] = (
    "ok",
    "storage_timeout",
    "storage_unavailable",
    "storage_not_found",
    "storage_rejected",
    "storage_integrity",
    "internal",
)
TRANSFER_DIRECTIONS: tuple[str, ...] = ("sent", "received")

# --- database --------------------------------------------------------------------------------
#: Every named query of the repository layer; a span and a histogram series each.
DB_QUERIES: tuple[str, ...] = (
    "migrate",
    "health",
    "upsert_user",
    "create_job",
    "get_job",
    "list_jobs",
    "claim_job",
    "update_job",
    "finish_job",
    "fail_job",
    "requeue_stale_jobs",
    "count_jobs",
    "user_usage",
    "get_session_limit",
    "set_session_limit",
    "budget_lease",
)
#: The job path's recovery queries (service/db/recovery.py): the sweeper, the delivery step and
#: the reaper's ages of waiting jobs.
DB_QUERIES = (
    *DB_QUERIES,
    "sweep_jobs",
    "claim_delivery",
    "record_delivery",
    "renew_delivery",
    "list_deliveries",
    "job_path_ages",
)
DB_BACKENDS: tuple[str, ...] = ("sqlite", "postgres")
#: Who decided about the session limit: an operator (/limit), the Alertmanager webhook
#: (SESSION_LIMIT_TUNING=alerts) or the in-process controller (SESSION_LIMIT_TUNING=adaptive).
LIMIT_CHANGE_SOURCES: tuple[str, ...] = ("operator", "alerts", "adaptive")
#: ``hold``: a decision not to change it (refused, with its reason in the log line).
LIMIT_CHANGE_DIRECTIONS: tuple[str, ...] = ("up", "down", "hold")

# --- bot -------------------------------------------------------------------------------------
#: The handler that took an update (``other`` for anything no router claimed).
HANDLERS: tuple[str, ...] = ("start", "help", "upload", "jobs", "job", "admin", "other")
#: ``ok``: handled. ``rejected``: the user's input was refused with a clear message (a bad file,
#: a flood limit) — the service worked. ``failed``: the service could not do its job.
UPDATE_OUTCOMES: tuple[str, ...] = ("ok", "rejected", "failed")

#: Bot API methods the service calls; any other is counted as ``other``.
TELEGRAM_METHODS: tuple[str, ...] = (
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "sendDocument",
    "sendChatAction",
    "getFile",
    "downloadFile",
    "answerCallbackQuery",
    "setWebhook",
    "deleteWebhook",
    "setMyCommands",
    "deleteMessage",
    "other",
)
TELEGRAM_STATUSES: tuple[str, ...] = (
    "ok",
    "retry_after",
    "client_error",
    "server_error",
    "network_error",
)

# --- workers ---------------------------------------------------------------------------------
#: Same meaning as UPDATE_OUTCOMES, for a whole job.
JOB_OUTCOMES: tuple[str, ...] = ("ok", "rejected", "failed")
JOB_STAGES: tuple[str, ...] = ("download", "process", "upload", "notify")
#: Why a job was queued again: a retryable error, or the reaper found its lease expired.
REQUEUE_REASONS: tuple[str, ...] = ("retry", "lease_expired")

# --- users' languages, job control and their data --------------------------------------------
#: Queries of service/db/userdata.py (preferences, cancelling, deleting, retention).
USER_DATA_QUERIES: tuple[str, ...] = (
    "remember_user",
    "get_user_prefs",
    "set_user_prefs",
    "cancel_job",
    "list_user_jobs",
    "delete_user_data",
    "expired_jobs",
    "delete_jobs",
    "result_file_ids",
)
DB_QUERIES = (*DB_QUERIES, *USER_DATA_QUERIES)
#: Handlers of the language, format, cancel, delete and privacy commands and their buttons.
USER_HANDLERS: tuple[str, ...] = ("language", "format", "cancel", "delete", "privacy", "button")
HANDLERS = (*HANDLERS, *USER_HANDLERS)
#: What the retention sweep removed: ``job`` rows and storage ``object``s.
RETENTION_ITEMS: tuple[str, ...] = ("job", "object")
#: What removed stored objects (label `trigger`): a cancelled job, the user's /delete, retention.
DELETION_REASONS: tuple[str, ...] = ("cancel", "user_delete", "retention")

# --- the job path: sweeper, fencing, delivery, broker ------------------------------------------
#: The sweeper's reasons: a queued job whose task was lost, a received job never queued, and a
#: kick that failed earlier and was retried; and a job riding out an outage (its attempt given
#: back, JOB_OUTAGE_RIDE_OUT_SECONDS).
REQUEUE_REASONS = (*REQUEUE_REASONS, "task_lost", "never_queued", "kick_failed", "outage")
#: Where a job can wait unnoticed (service/db/models.py WAITING_STAGES): the unfinished statuses
#: of ``csvbot_jobs_oldest_age_seconds``; a done job not delivered has metrics of its own.
WAITING_STATUSES: tuple[str, ...] = ("received", "queued", "running")
#: Writes refused to a worker whose claim is no longer current (fencing).
FENCED_WRITES: tuple[str, ...] = ("finish", "fail", "renew", "deliver")
#: How one delivery attempt of a job's result ended.
DELIVERY_OUTCOMES: tuple[str, ...] = ("delivered", "retry", "given_up", "abandoned", "fenced")
#: A result document sent for the first time, or again by a deliverer that took over.
DOCUMENT_SENDS: tuple[str, ...] = ("first", "resend")
#: Why a worker could not read from the broker: unreachable, too slow, or its consumer group
#: gone (Redis restarted empty), anything else.
BROKER_RECEIVE_ERRORS: tuple[str, ...] = ("connection", "timeout", "no_group", "other")
#: What ``/readyz`` probes (service/readiness.py), as ``csvbot_dependency_ready{check}``.
READINESS_CHECKS: tuple[str, ...] = ("database", "storage", "broker")
# --- upload spool and quotas -----------------------------------------------------------------
#: What a spooled upload waited for.
SPOOL_DEPENDENCIES: tuple[str, ...] = ("storage", "database", "broker")
#: Why a spooled upload was finished later: a dependency came back, or a restarted bot replayed
#: what the previous process left (``restart``).
SPOOL_REPLAY_REASONS: tuple[str, ...] = ("storage", "database", "broker", "restart")
#: Which per-user quota refused an upload.
QUOTAS: tuple[str, ...] = ("active_jobs", "daily_bytes")
# --- CSV child processes ---------------------------------------------------------------------
#: Why a CSV child process was killed and replaced: it did not stop when its job was cancelled
#: or passed its deadline, or it died under a job.
CSV_POOL_RESTART_CAUSES: tuple[str, ...] = ("cancelled", "deadline", "crashed")

# --- connection budget and alert webhook -------------------------------------------------------
#: Renewing this process's lease in the budget ledger: renewed, or the ledger could not be reached.
BUDGET_LEASE_OUTCOMES: tuple[str, ...] = ("ok", "failed")
#: One request to the Alertmanager webhook receiver.
ALERT_WEBHOOK_OUTCOMES: tuple[str, ...] = ("ok", "unauthorized", "malformed", "too_large")
#: One alert of an accepted request: ``acted`` (the rule ran, whatever it decided), ``replayed``
#: (seen within the cooldown), ``unknown`` (not a tuning alert), ``resolved``.
ALERT_OUTCOMES: tuple[str, ...] = ("acted", "replayed", "unknown", "resolved")
