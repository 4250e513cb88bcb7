"""The Alertmanager webhook receiver against a real PostgreSQL: bad input never moves the limit.

Each bad request — no token, a wrong token, a malformed body, an oversized body, an alert name
csvbot does not tune on, a replayed notification — is refused or ignored with a log line and a
metric, and the stored limit stays where it was. A firing pool alert while the pool really is
pinned raises the limit by one, and the cooldown holds the next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from service.config import load_settings
from service.db import open_repository
from service.db.budget import BudgetKeeper, LocalLedger
from service.db.sql_repository import SqlRepository
from service.tuning.decisions import Decisions
from service.tuning.quiet import QuietWatch
from service.tuning.tuner import Tuner
from service.tuning.webhook import PATH, AlertWebhook
from telemetry.metrics import Metrics
from tests.integration.db.conftest import create_database, drop_database

pytestmark = pytest.mark.integration

TOKEN = "s3cret-token-for-alertmanager"


@dataclass
class Receiver:
    url: str
    repo: SqlRepository
    keeper: BudgetKeeper
    registry: CollectorRegistry
    told: list[str]

    def count(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def receiver(pg_server_dsn: str) -> AsyncIterator[Receiver]:
    dsn = await create_database(pg_server_dsn)
    settings = load_settings(
        {
            "DATABASE_URL": dsn,
            "REDIS_URL": "",
            "SESSION_LIMIT_TUNING": "alerts",
            "ALERT_WEBHOOK_TOKEN": TOKEN,
            "SESSION_LIMIT_COOLDOWN_SECONDS": "600",
            "DB_ACQUIRE_TIMEOUT_SECONDS": "5",
        },
        env_file=None,
    )
    registry = CollectorRegistry()
    metrics = Metrics(registry, process_metrics=False)
    repo = await open_repository(settings, metrics, application_name="csvbot-bot")
    assert isinstance(repo, SqlRepository)
    keeper = BudgetKeeper(settings, repo, LocalLedger(), metrics, role="bot")
    await keeper.start()
    told: list[str] = []

    async def notify(text: str) -> None:
        told.append(text)

    tuner = Tuner(settings, repo, keeper, Decisions(repo, keeper, metrics, notify))
    runner = web.AppRunner(AlertWebhook(tuner, metrics, token=TOKEN).app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Receiver(f"http://127.0.0.1:{port}{PATH}", repo, keeper, registry, told)
    finally:
        await runner.cleanup()
        await keeper.stop()
        await repo.aclose()
        await drop_database(pg_server_dsn, dsn)


def payload(name: str, *, status: str = "firing", starts: str = "2026-12-01T10:00:00Z") -> dict[str, Any]:
    return {
        "version": "4",
        "status": status,
        "receiver": "csvbot",
        "groupKey": "{}:{}",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": name, "severity": "warning", "instance": "bot:9464"},
                "annotations": {},
                "startsAt": starts,
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": f"fp-{name}",
            }
        ],
    }


async def post(
    url: str, body: Any = None, *, token: str | None = TOKEN, raw: bytes | None = None
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=10) as client:
        content = raw if raw is not None else json.dumps(body).encode()
        return await client.post(url, content=content, headers=headers)


async def test_bad_input_is_refused_or_ignored_with_a_log_line_and_a_metric_and_the_limit_stays(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url, pool_alert = receiver.url, payload("CsvbotDbPoolWaitHigh")

    assert (await post(url, pool_alert, token=None)).status_code == 401
    assert (await post(url, pool_alert, token="wrong-token-wrong-token")).status_code == 401
    assert receiver.count("csvbot_alert_webhook_requests_total", outcome="unauthorized") == 2

    assert (await post(url, raw=b"{not json")).status_code == 400
    assert (await post(url, {"alerts": [{"labels": {}}]})).status_code == 400
    assert (await post(url, {"alerts": "all of them"})).status_code == 400
    assert receiver.count("csvbot_alert_webhook_requests_total", outcome="malformed") == 3

    big = json.dumps({"alerts": [], "pad": "x" * 300_000}).encode()
    assert (await post(url, raw=big)).status_code == 413
    assert receiver.count("csvbot_alert_webhook_requests_total", outcome="too_large") == 1

    unknown = await post(url, payload("CsvbotEventLoopLagHigh"))
    assert unknown.status_code == 200 and unknown.json()["results"][0]["outcome"] == "unknown"
    assert receiver.count("csvbot_alert_webhook_alerts_total", outcome="unknown") == 1

    # A pool alert while no process is pinned: the rule runs and holds, and says why.
    first = (await post(url, pool_alert)).json()["results"][0]
    assert first["outcome"] == "acted" and "not the bottleneck" in first["detail"], first
    replay = (await post(url, pool_alert)).json()["results"][0]
    assert replay["outcome"] == "replayed"
    assert receiver.count("csvbot_alert_webhook_alerts_total", outcome="replayed") == 1

    assert receiver.repo.session_limit == 4 and await receiver.repo.read_session_limit() is None
    for direction in ("up", "down"):
        assert (
            receiver.count("csvbot_db_session_limit_changes_total", source="alerts", direction=direction) == 0
        )
    assert receiver.count("csvbot_db_session_limit_changes_total", source="alerts", direction="hold") == 1
    refused = [r for r in caplog.records if getattr(r, "event", "") == "alert_webhook_refused"]
    assert sorted(r.outcome for r in refused) == [  # type: ignore[attr-defined]
        "malformed",
        "malformed",
        "malformed",
        "too_large",
        "unauthorized",
        "unauthorized",
    ]
    ignored = {
        getattr(r, "outcome", "") for r in caplog.records if getattr(r, "event", "") == "alert_webhook_alert"
    }
    assert {"unknown", "replayed", "acted"} <= ignored
    holds = [r for r in caplog.records if getattr(r, "event", "") == "session_limit_decision"]
    assert holds and all(r.levelno == logging.WARNING for r in holds)
    assert TOKEN not in caplog.text


async def test_a_pinned_pool_raises_the_limit_by_one_and_the_cooldown_holds_the_next_step(
    receiver: Receiver,
) -> None:
    limiter = receiver.repo.limiter
    held = [asyncio.ensure_future(limiter.acquire()) for _ in range(limiter.limit)]
    await asyncio.gather(*held)
    waiter = asyncio.ensure_future(receiver.repo.health())  # a caller waits: pinned, with waiters
    await asyncio.sleep(0.05)
    try:
        up = (await post(receiver.url, payload("CsvbotDbPoolWaitHigh"))).json()["results"][0]
        assert "4 → 5" in up["detail"] and "bottleneck" in up["detail"], up
        again = payload("CsvbotDbPoolAcquireTimeouts", starts="2026-12-01T10:05:00Z")
        hold = (await post(receiver.url, again)).json()["results"][0]
        assert "cooldown" in hold["detail"], hold
    finally:
        for _ in held:
            limiter.release()
        with contextlib.suppress(Exception):
            await waiter
    stored = await receiver.repo.read_session_limit()
    assert stored is not None and (stored.previous, stored.session_limit, stored.source) == (4, 5, "alerts")
    assert stored.actor == "CsvbotDbPoolWaitHigh" and "bottleneck" in stored.reason
    assert receiver.keeper.grant == 5  # this process's pool followed at once
    assert receiver.count("csvbot_db_session_limit_changes_total", source="alerts", direction="up") == 1
    assert any("4 → 5" in text for text in receiver.told) and any("cooldown" in t for t in receiver.told)


async def test_after_a_sustained_quiet_period_the_limit_comes_down_by_one_never_below_the_initial(
    receiver: Receiver,
) -> None:
    repo = receiver.repo
    await repo.set_session_limit(6, source="operator", actor="1", reason="launch day")
    settings = receiver.keeper.settings.model_copy(update={"session_limit_quiet_seconds": 0.2})
    tuner = Tuner(settings, repo, receiver.keeper, Decisions(repo, receiver.keeper, repo._metrics, None))
    watch = QuietWatch(tuner, interval=0.1)
    await watch.step()  # starts the quiet clock; nothing pinned, nobody waiting
    await asyncio.sleep(0.3)
    await watch.step()
    stored = await repo.read_session_limit()
    assert stored is not None and (stored.previous, stored.session_limit, stored.source) == (6, 5, "alerts")
    assert "quiet" in stored.reason
    await asyncio.sleep(0.3)
    await watch.step()  # within the cooldown of its own change: no second step
    assert repo.session_limit == 5
