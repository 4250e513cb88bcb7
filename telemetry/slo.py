"""The one home of every threshold, SLO target and histogram bucket.

The service's timeouts, the dashboards' threshold lines and the alert rules' expressions all
import these numbers; nothing else in the repository may restate them. A test checks that each
latency threshold sits exactly on a bucket boundary of the histogram that measures it, because a
Prometheus ``le`` bucket can only answer "how many were faster than X" for an X it has.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Storage ---------------------------------------------------------------------------------

#: Deadline of one storage operation, retries included. 15 s: the launch report's upload
#: timeout, kept so that alerts about "past 15 s" mean the same thing as the code's deadline.
STORAGE_TIMEOUT_SECONDS = 15.0
#: A storage operation slower than this is logged and counted as slow (launch report: 10 s).
STORAGE_SLOW_SECONDS = 10.0
#: More than 5 % of storage operations timing out over 10 minutes is "frequent" timeouts:
#: at the launch forecast's ~100 requests/min that is 50 failed user actions, worth a page.
STORAGE_TIMEOUT_RATIO_MAX = 0.05

# --- Database session limit -------------------------------------------------------------------

#: Supabase's session pooler refuses clients past its pool size; 4 is the launch setting.
SESSION_LIMIT_DEFAULT = 4
#: The run-time tuning may never go above this (Supabase free tier session pool: 15 clients,
#: shared with migrations and dashboards, so the service keeps 5 spare).
SESSION_LIMIT_CEILING_DEFAULT = 10
#: Waiting longer than this for a database session, at p95, means the pool is too small.
POOL_WAIT_P95_MAX_SECONDS = 0.5
#: Acquire timeout: after this long without a free session the call fails with a typed error.
POOL_ACQUIRE_TIMEOUT_SECONDS = 5.0

# --- Success rate (the launch report's tuning rule) ------------------------------------------

#: "If the success rate stays below 90 % → raise SUPABASE_SESSION_LIMIT".
SUCCESS_RATE_MIN = 0.90
#: How long it must stay below before the alert fires.
SUCCESS_RATE_FOR = "10m"

# --- SLOs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencySlo:
    """ "``target`` of ``what`` finish within ``threshold_seconds``", over ``window``."""

    name: str
    target: float
    threshold_seconds: float
    window: str = "30d"

    @property
    def error_budget(self) -> float:
        return 1.0 - self.target


#: A bot command (/start, /help, /jobs, /job) is answered within 1 s.
COMMAND_SLO = LatencySlo(name="command", target=0.995, threshold_seconds=1.0)
#: An upload is acknowledged ("queued") within 5 s (launch forecast: p95 < 5 s for uploads).
UPLOAD_SLO = LatencySlo(name="upload", target=0.99, threshold_seconds=5.0)
#: A CSV under the size limit yields its result within 60 s of upload.
RESULT_SLO = LatencySlo(name="result", target=0.99, threshold_seconds=60.0)

#: The update handlers (``handler`` label) whose replies COMMAND_SLO covers.
COMMAND_HANDLERS: tuple[str, ...] = ("start", "help", "jobs", "job")
#: The update handler that acknowledges an upload: UPLOAD_SLO covers it.
UPLOAD_HANDLER = "upload"

#: Launch forecast, checked by `csvbot simulate`: p95 of simple operations and of uploads.
SIMPLE_OP_P95_SECONDS = 3.0
UPLOAD_P95_SECONDS = 5.0
#: Expected success rate of user actions (launch forecast: 95 %+).
SUCCESS_RATE_TARGET = 0.95

#: Multi-window, multi-burn-rate alerting (Google SRE workbook, ch. 5), for a 30-day budget:
#: (long window, short window, burn rate, severity). 14.4x over 1 h burns 2 % of the budget.
BURN_RATE_WINDOWS: tuple[tuple[str, str, float, str], ...] = (
    ("1h", "5m", 14.4, "critical"),
    ("6h", "30m", 6.0, "critical"),
    ("1d", "2h", 3.0, "warning"),
    ("3d", "6h", 1.0, "warning"),
)
#: Burn-rate alerts need at least this many events per second in the long window, so that
#: two failures out of three requests at 3 a.m. do not page anyone.
BURN_RATE_MIN_EVENTS_PER_SECOND = 0.01

# --- Runtime ---------------------------------------------------------------------------------

#: Event-loop lag worth a log line naming the slow task (one log line per episode).
EVENT_LOOP_LAG_LOG_SECONDS = 0.1
#: Event-loop lag p99 that makes the bot feel sluggish: warn.
EVENT_LOOP_LAG_P99_WARN_SECONDS = 0.25
#: How often the lag monitor wakes up.
EVENT_LOOP_LAG_INTERVAL_SECONDS = 0.25

#: Any WARNING+ record dropped by the log queue is an alert; lower levels may be shed under a
#: storm, but more than 1 % of them over 10 minutes means LOG_QUEUE_SIZE is too small.
LOG_DROP_RATIO_MAX = 0.01
#: Levels whose loss is always an alert; LOG_DROP_RATIO_MAX applies to the sheddable ones.
LOG_LEVELS_NEVER_DROP: tuple[str, ...] = ("warning", "error", "critical")
LOG_LEVELS_SHEDDABLE: tuple[str, ...] = ("debug", "info")

# --- Workers ---------------------------------------------------------------------------------

#: A worker that has not beaten its heart for this long is stale (it beats every 5 s).
WORKER_HEARTBEAT_INTERVAL_SECONDS = 5.0
WORKER_HEARTBEAT_STALE_SECONDS = 30.0
#: A job that has been running (claimed) longer than this is re-queued by the reaper.
JOB_LEASE_SECONDS = 300.0
#: Queue backlog worth an alert when it keeps growing for this long.
QUEUE_BACKLOG_FOR = "10m"

# --- The job path: sweeper, delivery, broker outages --------------------------------------------

#: A retryable failure waits a full-jitter backoff of at most this long before its next attempt.
JOB_RETRY_BACKOFF_CAP_SECONDS = 30.0
#: A queued job that nobody claimed (or kicked) for this long has lost its task — a failed kick,
#: a broker restarted empty, an in-process queue that died with its process — and the sweeper
#: puts it on the queue again. Twice the retry backoff cap, so a job waiting out its backoff is
#: never kicked a second time; a duplicate task is harmless anyway (the claim is atomic).
JOB_QUEUED_STALE_SECONDS = 2 * JOB_RETRY_BACKOFF_CAP_SECONDS
#: A received job with its input stored that is still not queued after this long was left by a
#: bot that stopped between recording and queueing it (which normally takes milliseconds).
JOB_RECEIVED_STALE_SECONDS = 60.0
#: Claims of one result's delivery before the service gives up on it (the chat stays silent).
DELIVERY_MAX_ATTEMPTS = 5
#: Sends of one document within one delivery attempt (429s are waited out by the Bot session).
DELIVERY_SEND_ATTEMPTS = 3
#: Between failed delivery attempts: full jitter from 5 s, doubling, capped at 5 minutes.
DELIVERY_BACKOFF_BASE_SECONDS = 5.0
DELIVERY_BACKOFF_CAP_SECONDS = 300.0
#: A job still received, queued or running this long has been dropped by the recovery that
#: should have moved it on (the sweeper, the reaper, the outage ride-out): longer than
#: JOB_OUTAGE_RIDE_OUT_SECONDS (10 min) plus the largest retry backoff and a few sweeps, so an
#: outage being ridden out does not page. Page after 5 more minutes of it.
JOB_STUCK_SECONDS = 900.0
JOB_STUCK_FOR = "5m"
#: A done job whose result is still not in its user's chat this long after it finished: delivery
#: keeps failing (Telegram down or refusing). Its attempts (DELIVERY_MAX_ATTEMPTS, backoff from
#: DELIVERY_BACKOFF_BASE_SECONDS) take a few minutes; 10 minutes is past them for a healthy
#: Telegram. Warn after 5 more minutes.
RESULT_UNDELIVERED_SECONDS = 600.0
RESULT_UNDELIVERED_FOR = "5m"
#: A worker that cannot read from the broker retries every BROKER_BACKOFF_CAP_SECONDS at most:
#: ~0.2 failed reads a second while Redis is down. Above 0.05 a second (3 a minute) over 5
#: minutes, for 5 minutes, it has taken no task for most of that time.
BROKER_RECEIVE_ERRORS_PER_SECOND_MAX = 0.05
BROKER_RECEIVE_ERRORS_FOR = "5m"
#: A process whose readiness probes of the database, storage or broker (every
#: READINESS_CHECK_INTERVAL_SECONDS) have all failed for this long cannot reach it: the job path
#: rides such an outage out (the spool, outage retries), but users wait. Two minutes is ~24 failed
#: probes: an outage, not a blip.
DEPENDENCY_UNREACHABLE_FOR = "2m"
#: A worker whose broker fails retries with full jitter from 0.5 s doubling to 5 s: a Redis that
#: comes back is used within seconds, and a worker that waits costs one attempt every few seconds.
BROKER_BACKOFF_BASE_SECONDS = 0.5
BROKER_BACKOFF_CAP_SECONDS = 5.0
#: ``/readyz`` reflects probes of the database, storage and broker made this often, each
#: bounded by the timeout, so a scrape never waits on a dependency.
READINESS_CHECK_INTERVAL_SECONDS = 5.0
READINESS_PROBE_TIMEOUT_SECONDS = 3.0
#: ``csvbot worker`` at SIGTERM: running jobs get this long to finish before they are cancelled
#: (their leases bring them back); below the usual 30 s container stop grace period.
WORKER_DRAIN_SECONDS = 20.0

# --- Histogram buckets -------------------------------------------------------------------------
# Each latency threshold above is a bucket boundary of the histogram that measures it.

#: Storage calls: resolve 50 ms at the fast end and the 10 s / 15 s thresholds at the slow end.
STORAGE_BUCKETS: tuple[float, ...] = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    15.0,
    20.0,
    30.0,
)
#: Bot update handling (commands within 1 s, uploads within 3 s / 5 s).
UPDATE_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    3.0,
    5.0,
    10.0,
    30.0,
)
#: Upload-to-result and job processing times.
JOB_BUCKETS: tuple[float, ...] = (
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    20.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
)
#: Database pool waits and query times.
DB_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: Event-loop lag: 1 ms to 5 s.
LOOP_LAG_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
#: Log sink writes (a batch of records).
LOG_WRITE_BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.5,
    1.0,
)
#: Telegram Bot API calls.
TELEGRAM_BUCKETS: tuple[float, ...] = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
#: CSV sizes in bytes: 1 KiB to Telegram's 20 MiB bot download limit.
FILE_SIZE_BUCKETS: tuple[float, ...] = (
    1024.0,
    16384.0,
    131072.0,
    1048576.0,
    5242880.0,
    10485760.0,
    20971520.0,
)

#: (threshold, buckets) pairs a test checks: every threshold is a bucket boundary.
THRESHOLD_BUCKETS: tuple[tuple[str, float, tuple[float, ...]], ...] = (
    ("STORAGE_TIMEOUT_SECONDS", STORAGE_TIMEOUT_SECONDS, STORAGE_BUCKETS),
    ("STORAGE_SLOW_SECONDS", STORAGE_SLOW_SECONDS, STORAGE_BUCKETS),
    ("POOL_WAIT_P95_MAX_SECONDS", POOL_WAIT_P95_MAX_SECONDS, DB_BUCKETS),
    ("POOL_ACQUIRE_TIMEOUT_SECONDS", POOL_ACQUIRE_TIMEOUT_SECONDS, DB_BUCKETS),
    ("COMMAND_SLO", COMMAND_SLO.threshold_seconds, UPDATE_BUCKETS),
    ("UPLOAD_SLO", UPLOAD_SLO.threshold_seconds, UPDATE_BUCKETS),
    ("SIMPLE_OP_P95_SECONDS", SIMPLE_OP_P95_SECONDS, UPDATE_BUCKETS),
    ("UPLOAD_P95_SECONDS", UPLOAD_P95_SECONDS, UPDATE_BUCKETS),
    ("RESULT_SLO", RESULT_SLO.threshold_seconds, JOB_BUCKETS),
    ("EVENT_LOOP_LAG_LOG_SECONDS", EVENT_LOOP_LAG_LOG_SECONDS, LOOP_LAG_BUCKETS),
    ("EVENT_LOOP_LAG_P99_WARN_SECONDS", EVENT_LOOP_LAG_P99_WARN_SECONDS, LOOP_LAG_BUCKETS),
)

# --- users' languages ----------------------------------------------------------------------------
#: How long an update waits for its user's stored language: past it (a congested database) the
#: update goes on in Telegram's language_code. A second is several pool waits of a healthy
#: database and a small part of the 3 s command SLO.
PREFS_LOOKUP_TIMEOUT_SECONDS = 1.0

# --- upload spool and quotas -----------------------------------------------------------------
#: How long a spooled upload waits for storage, the database or the broker before the user is
#: told to send it again: 10 minutes outlasts a restart or failover of any of them, and is short
#: enough that a user still remembers the file.
SPOOL_MAX_AGE_SECONDS = 600.0
#: A job whose attempt failed because a dependency was down (storage, the database, Telegram, the
#: broker) gets that attempt back while it is younger than this, and tries again after a backoff
#: that grows with its age: the same bound as a spooled upload's, so an outage the bot's spool
#: outlives never uses up a job's JOB_MAX_ATTEMPTS either. Past it, attempts count as usual.
JOB_OUTAGE_RIDE_OUT_SECONDS = SPOOL_MAX_AGE_SECONDS
#: Ceiling of the jittered backoff between attempts to finish a spooled upload: a dependency that
#: comes back is noticed within this long, and 100 waiting uploads make ~10 attempts per second.
SPOOL_RETRY_CAP_SECONDS = 10.0
#: 512 MiB of spool: 25 maximum-size uploads, or hours of typical ones (median 16 KB).
SPOOL_MAX_BYTES_DEFAULT = 512 * 1024 * 1024
#: Jobs one user may have received, queued or running at once.
QUOTA_ACTIVE_JOBS_DEFAULT = 3
#: Bytes one user may upload per 24 hours: 10 maximum-size files.
QUOTA_DAILY_BYTES_DEFAULT = 200 * 1024 * 1024
# --- CSV processing deadline -----------------------------------------------------------------
#: A job's CSV processing is stopped past this: 40× the 3 s a 20 MB file takes, and well under
#: the job lease, so a live job is never mistaken for a dead one while it is processing.
JOB_PROCESS_TIMEOUT_SECONDS = 120.0

# --- Telegram Bot API and the log queue (alerts) ----------------------------------------------

#: Share of one Bot API method's calls answered 429 (retry_after) or 5xx over 10 minutes that
#: warns. The client retries both, so users feel it as slow replies first; one call in ten is
#: well above a quiet day's handful and well below a storm (the telegram-flood scenario: 22 %).
TELEGRAM_TROUBLE_RATIO_MAX = 0.1
#: How long the share must stay above before the warning: longer than one retry_after burst.
TELEGRAM_TROUBLE_FOR = "5m"
#: The log queue filled past this share of LOG_QUEUE_SIZE: the writer falls behind and the next
#: burst is dropped. 80 % leaves room for a burst of a fifth of the queue before records go.
LOG_QUEUE_NEAR_FULL_RATIO = 0.8
#: Two minutes near full: longer than one burst drained by a healthy writer.
LOG_QUEUE_NEAR_FULL_FOR = "2m"
# --- Connection budget and session-limit tuning -----------------------------------------------

#: Supabase's free-tier session pooler serves 15 clients (SUPABASE_POOL_SIZE) ...
POOL_SIZE_DEFAULT = 15
#: ... of which 5 are kept for migrations, the dashboard and an operator's psql
#: (SUPABASE_SESSION_RESERVE): the whole service may hold 15 - 5 = 10 sessions.
SESSION_RESERVE_DEFAULT = 5
#: Sessions a process keeps even when others want more: the bot must answer commands while
#: workers are busy (2: one command and one upload at once); a worker can finish a job with 1.
BUDGET_MIN_SESSIONS: dict[str, int] = {"bot": 2, "worker": 1}
#: A lease in the ledger lives this long unless renewed: a SIGKILLed process's share comes back
#: after at most this long. 15 s: three missed heartbeats, long past a GC pause or a slow renewal.
BUDGET_LEASE_SECONDS = 15.0
#: Leases are renewed (and the service-wide limit re-read) this often: 5 renewals per TTL.
BUDGET_HEARTBEAT_FRACTION = 0.2
#: Between two automatic limit changes: long enough for the alert windows (5 m) to see the
#: effect of the last step before the next one.
TUNING_COOLDOWN_SECONDS = 600.0
#: The limit goes back down by one after the pool has been quiet (no waits above a tenth of the
#: threshold, never pinned at its grant) for this long, never below SUPABASE_SESSION_LIMIT.
TUNING_QUIET_SECONDS = 3600.0
#: The adaptive controller decides once per window, and only on a window with at least this many
#: session acquisitions: a p95 of three waits is noise.
TUNING_WINDOW_SECONDS = 60.0
TUNING_MIN_SAMPLES = 20
#: Quiet means waits stay under this fraction of POOL_WAIT_P95_MAX_SECONDS.
TUNING_QUIET_WAIT_FRACTION = 0.1
#: The adaptive controller holds while the pool-wait p95 falls below this fraction of the window
#: before: the last step is still draining the backlog it was taken for, and another one now
#: would overshoot (waits stay above the threshold until the queue is gone).
TUNING_IMPROVING_FRACTION = 0.8
#: The largest Alertmanager webhook body accepted; a group of 50 alerts is ~40 KiB.
ALERT_WEBHOOK_MAX_BYTES = 256 * 1024
#: Alerts whose firing triggers the runbook rule (raise by one when the pool is the bottleneck).
TUNING_ALERTS: tuple[str, ...] = (
    "CsvbotDbPoolWaitHigh",
    "CsvbotDbPoolAcquireTimeouts",
    "CsvbotSuccessRateLow",
)
#: Alerts whose firing means more sessions will not help: they inhibit tuning (an unreachable
#: database is seen directly, from the db_unavailable errors each process reports to the ledger).
TUNING_INHIBITING_ALERTS: tuple[str, ...] = ("CsvbotStorageTimeoutsHigh",)
