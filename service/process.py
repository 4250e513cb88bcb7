"""Open a process's services once and close them in reverse: the bot and the worker alike.

Both processes need the same things in the same order — the Bot API client first (a bad token
fails before any I/O), then the database, storage and the broker — and, where jobs run, a
:class:`JobRunner` and the :class:`Reaper`. :func:`open_process` opens them on one
``AsyncExitStack``, so shutdown is always the exact reverse of start-up: the reaper stops, running
jobs finish (bounded), then the broker, storage, database and the client's HTTP session close.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiogram import Bot
from redis.asyncio import Redis
from taskiq import AsyncBroker
from taskiq_redis import RedisStreamBroker

from service.config import Settings
from service.control.retention import RetentionSweeper
from service.db import open_repository
from service.db.budget import open_budget
from service.db.factory import OpenRepository
from service.deps import Services
from service.i18n.catalog import i18n
from service.readiness import Check, ReadinessProbe
from service.runtime import Telemetry
from service.storage import build_storage
from service.telegram import build_bot, shut_down_session
from service.workers.broker import ConsumerState, build_broker, make_kick
from service.workers.csv_pool import open_csv_executor
from service.workers.reaper import Reaper
from service.workers.runner import JobRunner
from service.workers.sweeper import Sweeper

Role = Literal["bot", "worker"]
#: How long running jobs may take to finish at shutdown before they are cancelled.
DRAIN_SECONDS = 10.0


@dataclass(frozen=True, kw_only=True)
class OpenProcess:
    """What :func:`open_process` opened; ``runner``/``reaper`` only where jobs run."""

    bot: Bot
    broker: AsyncBroker
    services: Services
    runner: JobRunner | None
    reaper: Reaper | None
    #: A worker's view of whether it can read tasks from Redis (``None`` elsewhere).
    consumer: ConsumerState | None = None


@contextlib.asynccontextmanager
async def open_process(
    settings: Settings,
    telemetry: Telemetry,
    *,
    role: Role,
    run_jobs: bool,
    heartbeat_file: Path | None = None,
    drain_seconds: float = DRAIN_SECONDS,
    open_repo: OpenRepository = open_repository,
) -> AsyncIterator[OpenProcess]:
    """Open everything ``role`` needs; on exit close it in reverse, even after a failed start."""
    metrics, health = telemetry.metrics, telemetry.health
    i18n()  # catalogues and locale data loaded before any update or job needs them
    async with contextlib.AsyncExitStack() as stack:
        bot = build_bot(settings, metrics)
        stack.push_async_callback(shut_down_session, bot)
        repo = await open_repo(settings, metrics, application_name=f"csvbot-{role}")
        stack.push_async_callback(repo.aclose)
        # The pool is sized to this process's share of the service's connection budget.
        budget = await open_budget(settings, repo, metrics, role=role)
        if budget is not None:
            stack.push_async_callback(budget.stop)
        health.set("database", True)
        storage = build_storage(settings, metrics)
        await storage.start()
        stack.push_async_callback(storage.aclose)
        health.set("storage", True)
        # Only a worker process consumes; its consumer state feeds /readyz and the heartbeat.
        consumer = None
        if role == "worker" and settings.redis_url:
            consumer = ConsumerState(metrics, on_change=lambda ok: health.set("broker", ok))
        broker = build_broker(settings, consumer)
        broker.is_worker_process = role == "worker"
        await broker.startup()
        stack.push_async_callback(_shutdown_broker, broker)
        kick = make_kick(broker)
        services = Services(
            settings=settings,
            metrics=metrics,
            repo=repo,
            storage=storage,
            enqueue=kick,
            health=health,
            budget=budget,
        )
        runner = reaper = None
        if run_jobs:
            # Opened before the runner drains (closed after): running jobs finish in their children.
            csv = await stack.enter_async_context(open_csv_executor(settings, metrics))
            runner = JobRunner(services, bot, kick, lease_seconds=settings.job_lease_seconds, csv=csv)
            broker.state.csvbot_runner = runner
            stack.push_async_callback(runner.drain, drain_seconds)
            # The in-process queue died with the previous process: every queued job lost its task.
            sweeper = Sweeper(
                services, kick, runner.deliverer, kick_all_queued_at_start=not settings.redis_url
            )
            reaper = Reaper(
                services,
                bot,
                kick,
                heartbeat_file=heartbeat_file,
                sweeper=sweeper,
                heartbeat_status=consumer.describe if consumer is not None else None,
            )
            reaper.start()
            stack.push_async_callback(reaper.stop)
            retention = RetentionSweeper(services)
            retention.start()
            stack.push_async_callback(retention.stop)
        probe = ReadinessProbe(health, readiness_checks(services, broker, consumer), metrics=metrics)
        await probe.probe()
        probe.start()
        stack.push_async_callback(probe.stop)
        yield OpenProcess(
            bot=bot, broker=broker, services=services, runner=runner, reaper=reaper, consumer=consumer
        )


def readiness_checks(
    services: Services, broker: AsyncBroker, consumer: ConsumerState | None
) -> dict[str, Check]:
    """What ``/readyz`` probes: the database and storage round trips, and the broker — a PING,
    and for a worker also whether it can read tasks (a worker without its group is not ready)."""

    async def broker_check() -> None:
        if isinstance(broker, RedisStreamBroker):
            async with Redis(connection_pool=broker.connection_pool) as redis:
                await redis.ping()
        if consumer is not None and not consumer.consuming:
            raise RuntimeError(f"cannot read tasks from the broker ({consumer.reason})")

    return {"database": services.repo.health, "storage": services.storage.health, "broker": broker_check}


async def _shutdown_broker(broker: AsyncBroker) -> None:
    # A broker that lost its connection must not keep storage and the database from closing.
    with contextlib.suppress(Exception):
        await broker.shutdown()
