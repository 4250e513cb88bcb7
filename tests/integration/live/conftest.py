"""Fixtures of the live tests: the Prometheus binary, the fast rule copy, a remote-like database.

The rules Prometheus loads here are written by the same generator as the committed ones
(``alerts.generate.generate_rules(..., fast=True)``): every window and ``for`` divided by 60 with
a 5 s floor, evaluated every second, and the target alerts watching only the bot's scrape job
(the simulation runs the worker in-process, so there is no worker target to be absent).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest

from alerts.generate import generate_rules
from promlib.names import BOT_JOB
from service.config import Settings, load_settings
from tests.integration.db.conftest import create_database, drop_database
from tests.integration.live.latency_proxy import LatencyProxy
from tests.integration.live.prometheus_server import prometheus_binary

#: One-way delay between the service and PostgreSQL: a 100 ms round trip, what a Supabase session
#: pooler in another region costs. Every query then holds its session for at least 0.1 s.
DB_ONE_WAY_DELAY_SECONDS = 0.05


@pytest.fixture(scope="session")
def prometheus_bin() -> Path:
    return prometheus_binary()


@pytest.fixture(autouse=True)
def _no_prometheus_left_behind(prometheus_bin: Path) -> Iterator[None]:
    """Kills any Prometheus this test process started and did not stop (a timeout, a crash)."""
    yield
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if Path(child.exe()) == prometheus_bin.resolve():
                child.kill()
                child.wait(5)


@pytest.fixture(scope="session")
def fast_rule_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_rules(tmp_path_factory.mktemp("fast-rules"), fast=True, scrape_jobs=(BOT_JOB,))


@pytest.fixture
async def remote_pg_dsn(pg_server_dsn: str) -> AsyncIterator[str]:
    """A throwaway PostgreSQL database reached through a 100 ms round-trip latency proxy."""
    direct = await create_database(pg_server_dsn)
    parts = urlsplit(direct)
    proxy = LatencyProxy(
        parts.hostname or "127.0.0.1", parts.port or 5432, one_way_delay=DB_ONE_WAY_DELAY_SECONDS
    )
    port = await proxy.start()
    netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
    if parts.password:
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{port}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc))
    finally:
        await proxy.close()
        await drop_database(pg_server_dsn, direct)


def service_settings(*, database_url: str | None = None, **env: str) -> Settings:
    """Operator settings for a live run, with the cloud services pinned off unless given here.

    The harness points Telegram at its emulator and storage at a local folder or the Supabase
    Storage test server; pinning Redis, Supabase and OTLP empty keeps a developer's environment
    from sending the run anywhere else.
    """
    values = {
        "DATABASE_URL": database_url or "",
        "REDIS_URL": "",
        "SUPABASE_URL": "",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        **env,
    }
    return load_settings(values, env_file=None)
