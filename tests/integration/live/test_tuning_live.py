"""Alert → action, live: Prometheus fires, Alertmanager calls the bot, the runbook rule decides.

The service runs on a real PostgreSQL behind a 300 ms round trip (a far-away pooler: every query
holds its session that long), scraped by a real Prometheus evaluating the fast copy of the rules,
which sends to a real Alertmanager configured from ``deploy/alertmanager/alertmanager.yml``.

* Pool starved at the launch limit: CsvbotDbPoolWaitHigh fires, Alertmanager posts it to the
  bot's webhook, and the limit goes 4 → 5 within one cooldown of the alert firing, while
  ``pg_stat_activity`` never shows more sessions than the budget.
* Storage hangs: CsvbotStorageTimeoutsHigh fires and reaches the bot, which holds the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from service.config import Settings
from simulate.scenarios import SCENARIOS, Faults
from tests.integration.db.conftest import create_database, drop_database
from tests.integration.live.alertmanager_server import AlertmanagerServer, alertmanager_binary
from tests.integration.live.conftest import service_settings
from tests.integration.live.latency_proxy import LatencyProxy
from tests.integration.live.live_run import LiveRun
from tests.integration.live.prometheus_server import free_port

pytestmark = pytest.mark.integration

TOKEN = "live-tuning-token-0123456789"
COOLDOWN_SECONDS = 30.0
#: Six actions a second on four sessions of 300 ms each: about twice what the pool can serve.
STARVED = replace(
    SCENARIOS["pool-starved"],
    rate=6.0,
    duration=60.0,
    drain=5.0,
    users=300,
    tuning_window=10.0,
    tuning_cooldown=COOLDOWN_SECONDS,
)
STORAGE_HANG = replace(
    SCENARIOS["storage-hang"],
    rate=2.0,
    duration=40.0,
    drain=5.0,
    faults=Faults(storage_hang_rate=0.15),
    storage_timeout=1.0,
    storage_slow=0.5,
    tuning_window=10.0,
    tuning_cooldown=COOLDOWN_SECONDS,
)


@pytest.fixture
async def far_pg(pg_server_dsn: str) -> AsyncIterator[tuple[str, str]]:
    """(through a 300 ms round-trip proxy, direct) DSNs of a throwaway database."""
    direct = await create_database(pg_server_dsn)
    parts = urlsplit(direct)
    proxy = LatencyProxy(parts.hostname or "127.0.0.1", parts.port or 5432, one_way_delay=0.15)
    port = await proxy.start()
    user = f"{parts.username}@" if parts.username else ""
    try:
        yield urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}")), direct
    finally:
        await proxy.close()
        await drop_database(pg_server_dsn, direct)


def tuning_settings(database_url: str, webhook_port: int) -> Settings:
    return service_settings(
        database_url=database_url,
        SESSION_LIMIT_TUNING="alerts",
        ALERT_WEBHOOK_TOKEN=TOKEN,
        ALERT_WEBHOOK_PORT=str(webhook_port),
        SUPABASE_SESSION_LIMIT="4",
    )


async def sample_sessions(dsn: str, most: list[int]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        while True:
            n = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name LIKE 'csvbot-%' AND application_name NOT LIKE '%-reserve'"
            )
            most[0] = max(most[0], int(n))
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def stored_limit(dsn: str) -> tuple[int, str, str] | None:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT session_limit, source, reason FROM session_limit_changes ORDER BY id DESC LIMIT 1"
        )
    finally:
        await conn.close()
    return None if row is None else (row["session_limit"], row["source"], row["reason"])


@contextlib.asynccontextmanager
async def alert_path(tmp: Path, webhook_port: int) -> AsyncIterator[AlertmanagerServer]:
    manager = AlertmanagerServer(
        alertmanager_binary(),
        tmp / "alertmanager",
        webhook_url=f"http://127.0.0.1:{webhook_port}/alertmanager",
        token=TOKEN,
    )
    await manager.start()
    try:
        yield manager
    finally:
        await manager.stop()


@pytest.mark.timeout(180)
async def test_pool_wait_alert_raises_the_limit_4_to_5_within_one_cooldown_within_the_budget(
    far_pg: tuple[str, str], prometheus_bin: Path, fast_rule_files: list[Path], tmp_path: Path
) -> None:
    slow, direct = far_pg
    port = free_port()
    settings = tuning_settings(slow, port)
    most = [0]
    async with alert_path(tmp_path, port) as manager:
        run = LiveRun(
            STARVED,
            settings,
            prometheus_binary=prometheus_bin,
            rule_files=fast_rule_files,
            workdir=tmp_path / "prometheus",
            alertmanager=f"127.0.0.1:{manager.port}",
        )
        async with run:
            sampling = asyncio.get_running_loop().create_task(sample_sessions(direct, most))
            try:
                await run.wait_for_alert("CsvbotDbPoolWaitHigh", within=60.0)
                fired_at = time.monotonic()
                while (limit := await stored_limit(direct)) is None or limit[0] < 5:
                    assert time.monotonic() - fired_at < COOLDOWN_SECONDS, (
                        f"no raise within one cooldown of the alert firing; stored {limit}; "
                        f"alertmanager: {manager.log_tail(10)}"
                    )
                    await asyncio.sleep(0.5)
                raised_after = time.monotonic() - fired_at
                registry = run.harness.telemetry.metrics.registry  # type: ignore[union-attr]
                # The bot's own pool follows within a renewal (on the reserve while it is starved).
                deadline = time.monotonic() + 10
                while (grant := registry.get_sample_value("csvbot_db_session_grant")) != 5:
                    assert time.monotonic() < deadline, f"grant stayed {grant}"
                    await asyncio.sleep(0.2)
                await asyncio.sleep(3)  # the load goes on: the budget must hold after the raise
            finally:
                sampling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampling
    print(
        f"pool starved: {run.timeline()}; limit raised {raised_after:.1f}s after firing; "
        f"most sessions {most[0]}"
    )
    assert limit[0] == 5 and limit[1] == "alerts" and "bottleneck" in limit[2], limit
    assert grant == 5
    assert registry.get_sample_value("csvbot_alert_webhook_requests_total", {"outcome": "ok"}) >= 1
    assert (
        registry.get_sample_value(
            "csvbot_db_session_limit_changes_total", {"source": "alerts", "direction": "up"}
        )
        == 1
    )
    assert 0 < most[0] <= settings.session_budget


@pytest.mark.timeout(150)
async def test_storage_timeouts_fire_and_reach_the_bot_and_the_limit_does_not_move(
    far_pg: tuple[str, str], prometheus_bin: Path, fast_rule_files: list[Path], tmp_path: Path
) -> None:
    _, direct = far_pg
    port = free_port()
    settings = tuning_settings(direct, port)
    async with alert_path(tmp_path, port) as manager:
        run = LiveRun(
            STORAGE_HANG,
            settings,
            prometheus_binary=prometheus_bin,
            rule_files=fast_rule_files,
            workdir=tmp_path / "prometheus",
            alertmanager=f"127.0.0.1:{manager.port}",
        )
        async with run:
            await run.wait_for_alert("CsvbotStorageTimeoutsHigh", within=60.0)
            registry = run.harness.telemetry.metrics.registry  # type: ignore[union-attr]
            holds = {"source": "alerts", "direction": "hold"}
            deadline = time.monotonic() + 20
            while (registry.get_sample_value("csvbot_db_session_limit_changes_total", holds) or 0) < 1:
                assert time.monotonic() < deadline, (
                    f"the bot never heard of the alert: {manager.log_tail(10)}"
                )
                await asyncio.sleep(0.5)
            await run.wait_for_load()
    print(f"storage hangs: {run.timeline()}")
    assert await stored_limit(direct) is None, "the limit moved"
    for direction in ("up", "down"):
        labels = {"source": "alerts", "direction": direction}
        assert registry.get_sample_value("csvbot_db_session_limit_changes_total", labels) == 0
