"""Start-up with a database setting that cannot work: one typed error naming the variable."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from service.config import Settings
from service.db import migrate_command, open_repository
from service.errors import ConfigError, DatabaseUnavailableError
from telemetry.metrics import Metrics
from tests.integration.db.conftest import dsn_for_database

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-Pa55"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def test_unreachable_postgres_is_unavailable_naming_database_url_without_the_password(
    metrics: Metrics,
) -> None:
    url = f"postgresql://csvbot:{PASSWORD}@127.0.0.1:{closed_port()}/csvbot"
    async with asyncio.timeout(5):  # refused at once, not after a timeout
        with pytest.raises(DatabaseUnavailableError) as failed:
            await open_repository(settings(database_url=url, db_acquire_timeout_seconds=30), metrics)
    assert "DATABASE_URL" in str(failed.value) and "127.0.0.1" in str(failed.value)
    assert PASSWORD not in str(failed.value)


async def test_a_missing_database_is_a_config_error_naming_database_url(
    pg_server_dsn: str, metrics: Metrics
) -> None:
    url = dsn_for_database(pg_server_dsn, "csvbot_no_such_database")
    with pytest.raises(ConfigError) as failed:
        await open_repository(settings(database_url=url), metrics)
    assert failed.value.variable == "DATABASE_URL"
    assert "csvbot_no_such_database" in str(failed.value)


async def test_an_unknown_role_is_a_config_error_that_does_not_echo_the_password(
    pg_server_dsn: str, metrics: Metrics
) -> None:
    parts = pg_server_dsn.split("@", 1)[1]
    url = f"postgresql://csvbot_no_such_role:{PASSWORD}@{parts}"
    with pytest.raises(ConfigError) as failed:
        await open_repository(settings(database_url=url), metrics)
    assert failed.value.variable == "DATABASE_URL" and PASSWORD not in str(failed.value)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{PASSWORD}@127.0.0.1:99999/db",
        f"postgresql://u:{PASSWORD}@127.0.0.1:5432/db?sslmode=sometimes",
    ],
)
async def test_a_url_the_driver_cannot_use_is_a_config_error(url: str, metrics: Metrics) -> None:
    with pytest.raises(ConfigError) as failed:
        await open_repository(settings(database_url=url), metrics)
    assert failed.value.variable == "DATABASE_URL" and PASSWORD not in str(failed.value)


async def test_an_sqlite_path_that_cannot_be_created_is_a_config_error_naming_sqlite_path(
    tmp_path: Path, metrics: Metrics
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError) as failed:
        await open_repository(settings(sqlite_path=blocker / "csvbot.sqlite3"), metrics)
    assert failed.value.variable == "SQLITE_PATH"


async def test_the_migrate_command_reports_an_unreachable_database_with_exit_status_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"postgresql://csvbot:{PASSWORD}@127.0.0.1:{closed_port()}/csvbot"
    assert await migrate_command(settings(database_url=url)) == 1
    err = capsys.readouterr().err
    assert "DATABASE_URL" in err and PASSWORD not in err


async def test_the_migrate_command_creates_the_schema_then_reports_it_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = settings(sqlite_path=tmp_path / "csvbot.sqlite3")
    assert await migrate_command(target) == 0
    assert "applied migrations 001" in capsys.readouterr().out
    assert await migrate_command(target) == 0
    assert "up to date" in capsys.readouterr().out
