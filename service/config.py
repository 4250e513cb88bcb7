"""One typed ``Settings``, read from the environment and ``.env``, built once and passed down.

Every variable is documented in the README's configuration table. Cloud settings left unset select
the embedded defaults: SQLite instead of Postgres (``DATABASE_URL``), a local folder instead of
Supabase Storage (``SUPABASE_URL``), an in-process worker instead of Redis (``REDIS_URL``).

:func:`load_settings` turns any validation failure into a :class:`~service.errors.ConfigError` that
names the variable and what it allows; the CLI prints that one line and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.errors import ConfigError
from telemetry import slo

MiB = 1024 * 1024


class Settings(BaseSettings):
    """csvbot's configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    # --- Telegram ---------------------------------------------------------------------------
    bot_token: SecretStr | None = None
    #: Base URL of the Bot API server (a local Bot API server, or the built-in emulator).
    telegram_api_url: str | None = None
    #: Public HTTPS URL for webhook mode; polling when unset.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8081, ge=1, le=65535)
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    #: Per-user flood limit: at most this many updates per ``flood_window_seconds``.
    flood_max_updates: int = Field(default=20, ge=1)
    flood_window_seconds: float = Field(default=10.0, gt=0)

    # --- Storage ----------------------------------------------------------------------------
    supabase_url: str | None = None
    supabase_key: SecretStr | None = None
    supabase_bucket: str = Field(default="csvbot-files", min_length=3, max_length=63)
    storage_dir: Path = Path("data/storage")
    storage_timeout_seconds: float = Field(default=slo.STORAGE_TIMEOUT_SECONDS, gt=0, le=300)
    storage_slow_seconds: float = Field(default=slo.STORAGE_SLOW_SECONDS, gt=0, le=300)

    # --- Database ---------------------------------------------------------------------------
    database_url: SecretStr | None = None
    sqlite_path: Path = Path("data/csvbot.sqlite3")
    supabase_session_limit: int = Field(default=slo.SESSION_LIMIT_DEFAULT, ge=1)
    supabase_session_limit_max: int = Field(default=slo.SESSION_LIMIT_CEILING_DEFAULT, ge=1, le=1000)
    db_acquire_timeout_seconds: float = Field(default=slo.POOL_ACQUIRE_TIMEOUT_SECONDS, gt=0, le=120)
    #: Off behind Supabase's transaction pooler (port 6543), which cannot keep prepared statements.
    db_prepared_statements: bool = True

    # --- Workers ----------------------------------------------------------------------------
    redis_url: str | None = None
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    job_max_attempts: int = Field(default=3, ge=1, le=20)
    #: A running job not finished within its lease is taken back by the reaper (and, with Redis,
    #: its unacknowledged task is redelivered to another worker after the same time).
    job_lease_seconds: float = Field(default=slo.JOB_LEASE_SECONDS, ge=1, le=86_400)
    #: Touched by a healthy worker every few seconds; ``csvbot worker --check`` reads its age.
    worker_heartbeat_file: Path = Path("data/worker.heartbeat")
    #: A queued job nobody claimed for this long has lost its task and is queued again.
    job_queued_stale_seconds: float = Field(default=slo.JOB_QUEUED_STALE_SECONDS, gt=0, le=86_400)

    # --- CSV limits -------------------------------------------------------------------------
    #: 20 MiB: the largest file a bot may download from Telegram.
    max_upload_bytes: int = Field(default=20 * MiB, ge=1, le=2000 * MiB)
    max_rows: int = Field(default=1_000_000, ge=1)
    max_columns: int = Field(default=500, ge=1, le=100_000)
    max_field_chars: int = Field(default=100_000, ge=1)

    # --- Upload spool and per-user quotas ---------------------------------------------------
    #: Where accepted uploads wait for storage, the database or the broker; unset: ``spool``
    #: beside STORAGE_DIR (``data/spool``, on the data volume).
    spool_dir: Path | None = None
    spool_max_bytes: int = Field(default=slo.SPOOL_MAX_BYTES_DEFAULT, ge=0)
    spool_max_age_seconds: float = Field(default=slo.SPOOL_MAX_AGE_SECONDS, gt=0, le=86_400)
    quota_active_jobs: int = Field(default=slo.QUOTA_ACTIVE_JOBS_DEFAULT, ge=1, le=1000)
    quota_daily_bytes: int = Field(default=slo.QUOTA_DAILY_BYTES_DEFAULT, ge=1)
    # --- CSV processing ---------------------------------------------------------------------
    #: ``process``: each job's CSV work runs in a child process (WORKER_CONCURRENCY of them), so
    #: it never holds the event loop's GIL. ``thread``: in a thread of this process, for hosts
    #: that cannot start processes (and to measure the difference, bench/csv_pool_bench.py).
    csv_executor: Literal["process", "thread"] = "process"
    #: Past this a job's CSV processing is stopped and the job fails (processing_timeout).
    job_process_timeout_seconds: float = Field(default=slo.JOB_PROCESS_TIMEOUT_SECONDS, gt=0, le=86_400)

    # --- Telemetry --------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    #: Optional file sink; stderr always (Railway and Docker collect stderr).
    log_file: Path | None = None
    log_queue_size: int = Field(default=10_000, ge=100, le=10_000_000)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    otel_exporter_otlp_endpoint: str | None = None

    # --- users' data ----------------------------------------------------------------------------
    #: Days after an upload when the sweep deletes its file, results and job row.
    retention_days: int = Field(default=7, ge=1, le=3650)
    #: How often the retention sweep runs; an hour keeps deletion within a day of the promise.
    retention_sweep_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    #: Key of the signatures on inline buttons; unset: derived from BOT_TOKEN.
    callback_secret: SecretStr | None = None

    # --- Telemetry level --------------------------------------------------------------------
    #: ``minimal``: logs at WARNING and above, no spans, no per-update metrics middleware. Only
    #: to measure what telemetry costs (bench/capacity_bench.py); production runs ``full``.
    telemetry: Literal["full", "minimal"] = "full"
    # --- Connection budget and session-limit tuning -------------------------------------------
    #: The pooler's size (Supabase free tier: 15) and the part of it csvbot leaves alone.
    supabase_pool_size: int = Field(default=slo.POOL_SIZE_DEFAULT, ge=1, le=10_000)
    supabase_session_reserve: int = Field(default=slo.SESSION_RESERVE_DEFAULT, ge=0, le=10_000)
    #: ``off``: only operators change the limit; ``alerts``: Alertmanager's webhook does too;
    #: ``adaptive``: an in-process controller does (no Prometheus needed).
    session_limit_tuning: Literal["off", "alerts", "adaptive"] = "off"
    session_limit_cooldown_seconds: float = Field(default=slo.TUNING_COOLDOWN_SECONDS, ge=0, le=86_400)
    session_limit_quiet_seconds: float = Field(default=slo.TUNING_QUIET_SECONDS, gt=0, le=7 * 86_400)
    session_limit_window_seconds: float = Field(default=slo.TUNING_WINDOW_SECONDS, gt=0, le=3_600)
    db_budget_lease_seconds: float = Field(default=slo.BUDGET_LEASE_SECONDS, ge=1, le=600)
    #: Alertmanager's webhook receiver (in the bot process), and the bearer token it requires.
    alert_webhook_host: str = "127.0.0.1"
    alert_webhook_port: int = Field(default=9466, ge=0, le=65535)
    alert_webhook_token: SecretStr | None = None

    # --- validators -------------------------------------------------------------------------

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return tuple(int(p) for p in parts if p)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("supabase_url", "telegram_api_url", "webhook_url", "otel_exporter_otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://xyz.supabase.co")
        return value.rstrip("/")

    @field_validator("alert_webhook_token")
    @classmethod
    def _empty_token_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("database_url")
    @classmethod
    def _postgres_dsn(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
            # The message must not echo the value: it may hold a password.
            raise ValueError("must be a postgresql://user:password@host:port/dbname URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.supabase_url and not self.supabase_key:
            raise _FieldProblem("supabase_key", "is required when SUPABASE_URL is set")
        if self.supabase_session_limit > self.supabase_session_limit_max:
            raise _FieldProblem(
                "supabase_session_limit",
                f"must be at most SUPABASE_SESSION_LIMIT_MAX={self.supabase_session_limit_max} "
                f"(got {self.supabase_session_limit})",
            )
        if self.storage_slow_seconds > self.storage_timeout_seconds:
            raise _FieldProblem(
                "storage_slow_seconds",
                f"must not exceed STORAGE_TIMEOUT_SECONDS={self.storage_timeout_seconds:g}",
            )
        if self.webhook_url and not self.webhook_secret:
            raise _FieldProblem("webhook_secret", "is required when WEBHOOK_URL is set")
        self._check_budget()
        return self

    def _check_budget(self) -> None:
        if self.supabase_session_reserve >= self.supabase_pool_size:
            raise _FieldProblem(
                "supabase_session_reserve",
                f"must be below SUPABASE_POOL_SIZE={self.supabase_pool_size} "
                f"(got {self.supabase_session_reserve}): nothing would be left for csvbot",
            )
        if self.session_limit_tuning == "alerts" and not self.alert_webhook_token:
            raise _FieldProblem("alert_webhook_token", "is required when SESSION_LIMIT_TUNING=alerts")
        if self.alert_webhook_token is not None and len(self.alert_webhook_token.get_secret_value()) < 16:
            raise _FieldProblem("alert_webhook_token", "must be at least 16 characters")

    # --- what the embedded defaults select -------------------------------------------------

    @property
    def uses_supabase_storage(self) -> bool:
        return self.supabase_url is not None

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def spool_path(self) -> Path:
        return self.spool_dir or self.storage_dir.parent / "spool"

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    @property
    def session_budget(self) -> int:
        """Sessions the whole service may hold: the pooler's size minus the reserve."""
        return self.supabase_pool_size - self.supabase_session_reserve


class _FieldProblem(ValueError):
    """A cross-field problem that should be reported against one variable."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def load_settings(env: Mapping[str, str] | None = None, *, env_file: str | None = ".env") -> Settings:
    """Build :class:`Settings` from ``env`` (or the process environment) and ``env_file``.

    Raises :class:`ConfigError` naming the first bad variable; never a pydantic traceback.
    """
    try:
        if env is None:
            return Settings(_env_file=env_file)  # type: ignore[call-arg]
        values: dict[str, Any] = {k.lower(): v for k, v in env.items() if k.lower() in Settings.model_fields}
        return Settings(_env_file=env_file, **values)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise _config_error(exc) from None
    except _FieldProblem as exc:
        raise ConfigError(exc.field.upper(), exc.problem) from None


def _config_error(exc: ValidationError) -> ConfigError:
    err = exc.errors(include_url=False, include_input=False)[0]
    loc = [str(p) for p in err.get("loc", ()) if isinstance(p, str)]
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _FieldProblem):
        return ConfigError(ctx_error.field.upper(), ctx_error.problem)
    variable = loc[0].upper() if loc else "SETTINGS"
    message = str(err.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    return ConfigError(variable, message)
