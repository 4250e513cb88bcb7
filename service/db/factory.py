"""Building a ready repository from settings, and the ``csvbot migrate`` command.

Start-up is where a wrong setting must surface, once, with the variable's name: a malformed
``DATABASE_URL``, a wrong password or a missing database is a :class:`ConfigError` naming
``DATABASE_URL``; a server that cannot be reached is a :class:`DatabaseUnavailableError` naming it.
Neither message contains the password (only ``user@host:port/dbname`` is shown).
"""

from __future__ import annotations

import sys
from typing import Protocol
from urllib.parse import urlsplit

import asyncpg
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from service.config import Settings
from service.db.models import utc_now
from service.db.postgres import PostgresRepository
from service.db.repository import Repository
from service.db.sql_repository import Clock, SqlRepository
from service.db.sqlite import SqliteRepository
from service.errors import ConfigError, CsvbotError, DatabaseUnavailableError
from telemetry.metrics import Metrics

#: Errors that mean the URL itself is wrong, not that the server is down.
_CONFIG_CAUSES = (
    asyncpg.InvalidAuthorizationSpecificationError,  # unknown role, wrong password (28xxx)
    asyncpg.InvalidCatalogNameError,  # the database does not exist
)


class OpenRepository(Protocol):
    """How a process gets its ready repository (:func:`open_repository`, or a simulation's model)."""

    async def __call__(
        self, settings: Settings, metrics: Metrics, *, application_name: str
    ) -> Repository: ...


def build_repository(
    settings: Settings,
    metrics: Metrics,
    *,
    application_name: str = "csvbot",
    clock: Clock = utc_now,
    tracer_provider: trace.TracerProvider | None = None,
) -> SqlRepository:
    """The backend ``settings`` select, not yet connected or migrated."""
    if settings.database_url is not None:
        _check_dsn(settings.database_url.get_secret_value())
        return PostgresRepository(
            settings, metrics, application_name=application_name, clock=clock, tracer_provider=tracer_provider
        )
    return SqliteRepository(settings, metrics, clock=clock, tracer_provider=tracer_provider)


async def open_repository(
    settings: Settings,
    metrics: Metrics,
    *,
    application_name: str = "csvbot",
    clock: Clock = utc_now,
    tracer_provider: trace.TracerProvider | None = None,
) -> Repository:
    """Connect, apply pending migrations, and return the ready repository.

    ``application_name`` marks this process's sessions in ``pg_stat_activity``
    (``csvbot-bot``, ``csvbot-worker``).
    """
    repo = build_repository(
        settings, metrics, application_name=application_name, clock=clock, tracer_provider=tracer_provider
    )
    await migrate_or_explain(repo)
    return repo


async def migrate(settings: Settings, metrics: Metrics) -> list[int]:
    """Apply pending migrations and close; the versions this call applied (empty: up to date)."""
    repo = build_repository(settings, metrics, application_name="csvbot-migrate")
    try:
        return await migrate_or_explain(repo, close=False)
    finally:
        await repo.aclose()


async def migrate_command(settings: Settings) -> int:
    """``csvbot migrate``: exit 0 when the schema is current, 1 when the database is unreachable.

    A :class:`ConfigError` propagates: the CLI prints it and exits with status 2.
    """
    metrics = Metrics(CollectorRegistry(), process_metrics=False)
    try:
        applied = await migrate(settings, metrics)
    except DatabaseUnavailableError as exc:
        print(f"csvbot: {exc}", file=sys.stderr)
        return 1
    if applied:
        print(f"csvbot: applied migrations {', '.join(f'{v:03d}' for v in applied)}")
    else:
        print("csvbot: database schema is up to date")
    return 0


async def migrate_or_explain(repo: SqlRepository, *, close: bool = True) -> list[int]:
    """Apply pending migrations; a failure becomes the start-up error that names the setting."""
    try:
        return await repo.apply_migrations()
    except CsvbotError as exc:
        if close:
            await repo.aclose()
        raise _startup_error(repo, exc) from None


def _check_dsn(dsn: str) -> None:
    """What the settings validator leaves to the driver: a port that is not a port."""
    try:
        urlsplit(dsn).port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ConfigError("DATABASE_URL", "has a port that is not a number from 1 to 65535") from None


def _startup_error(repo: SqlRepository, exc: CsvbotError) -> CsvbotError:
    cause = exc.__cause__
    if isinstance(repo, SqliteRepository):
        if isinstance(exc, DatabaseUnavailableError):
            # The folder cannot be created, the file cannot be opened or written, the disk is full.
            detail = getattr(cause, "strerror", None) or str(cause or exc)
            return ConfigError("SQLITE_PATH", f"cannot use {repo.path}: {detail}")
        return exc
    assert isinstance(repo, PostgresRepository)
    if isinstance(cause, _CONFIG_CAUSES):
        # Server messages name the role or database, never the password.
        return ConfigError("DATABASE_URL", f"{repo.description}: {cause}")
    if isinstance(cause, ValueError):
        return ConfigError("DATABASE_URL", "is not a valid postgresql://user:password@host:port/dbname URL")
    if isinstance(exc, DatabaseUnavailableError):
        reason = type(cause).__name__ if cause is not None else "unavailable"
        return DatabaseUnavailableError(f"DATABASE_URL: cannot reach {repo.description} ({reason})")
    return exc
