"""``csvbot worker``: a worker process reading jobs from the Redis stream.

Run as many as needed; each is a consumer in the same group, so each task goes to one of them.
``csvbot worker --check`` is the container health check: healthy while the heartbeat file was
touched within ``WORKER_HEARTBEAT_STALE_SECONDS``.
"""

from __future__ import annotations

import contextlib
import logging
import sys

from taskiq.api import run_receiver_task

from service.app import run_until_signal
from service.bot.dispatcher import build_bot
from service.config import Settings
from service.db import open_repository
from service.deps import Services
from service.errors import ConfigError
from service.runtime import Telemetry
from service.storage import build_storage
from service.workers.broker import build_broker, make_kick
from service.workers.reaper import Reaper, heartbeat_age
from service.workers.runner import JobRunner
from telemetry import slo

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> int:
    if not settings.redis_url:
        raise ConfigError(
            "REDIS_URL", "is required for separate worker processes (csvbot run works without it)"
        )
    telemetry = Telemetry.start(settings, service="worker")
    metrics, health = telemetry.metrics, telemetry.health
    bot = build_bot(settings, metrics)
    repo = storage = broker = reaper = None
    try:
        repo = await open_repository(settings, metrics, application_name="csvbot-worker")
        storage = build_storage(settings, metrics)
        await storage.start()
        broker = build_broker(settings)
        broker.is_worker_process = True
        await broker.startup()
        kick = make_kick(broker)

        async def enqueue(job_id: str, carrier: dict[str, str]) -> None:
            await kick(job_id, carrier)

        services = Services(settings, metrics, repo, storage, enqueue, health)
        broker.state.csvbot_runner = JobRunner(services, bot, kick, lease_seconds=settings.job_lease_seconds)
        reaper = Reaper(services, bot, kick, heartbeat_file=settings.worker_heartbeat_file)
        reaper.start()
        health.set("worker", True)
        log.info(
            "worker started", extra={"event": "worker_started", "concurrency": settings.worker_concurrency}
        )
        await run_until_signal(
            run_receiver_task(broker, max_async_tasks=settings.worker_concurrency, run_startup=False)
        )
        return 0
    finally:
        health.set("worker", False)
        if reaper is not None:
            await reaper.stop()
        if broker is not None:
            with contextlib.suppress(Exception):
                await broker.shutdown()
        await bot.session.close()
        if storage is not None:
            await storage.aclose()
        if repo is not None:
            await repo.aclose()
        await telemetry.stop()


def check_worker(settings: Settings) -> int:
    """0 when this container's worker beat its heart recently, 1 otherwise (with the reason)."""
    age = heartbeat_age(settings.worker_heartbeat_file)
    if age is None:
        print(f"unhealthy: no heartbeat file at {settings.worker_heartbeat_file}", file=sys.stderr)
        return 1
    if age > slo.WORKER_HEARTBEAT_STALE_SECONDS:
        print(f"unhealthy: last heartbeat {age:.0f} s ago", file=sys.stderr)
        return 1
    print(f"healthy: last heartbeat {age:.1f} s ago")
    return 0
