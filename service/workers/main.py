"""``csvbot worker``: a worker process reading jobs from the Redis stream.

Run as many as needed; each is a consumer in the same group, so each task goes to one of them.
``csvbot worker --check`` is the container health check: healthy while the heartbeat file was
touched within ``WORKER_HEARTBEAT_STALE_SECONDS``.
"""

from __future__ import annotations

import logging
import sys

from taskiq.api import run_receiver_task

from service.config import Settings
from service.errors import ConfigError
from service.process import open_process
from service.runtime import Telemetry, run_until_signal
from service.workers.reaper import heartbeat_age
from telemetry import slo

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> int:
    if not settings.redis_url:
        raise ConfigError(
            "REDIS_URL", "is required for separate worker processes (csvbot run works without it)"
        )
    telemetry = Telemetry.start(settings, service="worker")
    health = telemetry.health
    try:
        async with open_process(
            settings,
            telemetry,
            role="worker",
            run_jobs=True,
            heartbeat_file=settings.worker_heartbeat_file,
        ) as opened:
            health.set("worker", True)
            log.info(
                "worker started",
                extra={"event": "worker_started", "concurrency": settings.worker_concurrency},
            )
            try:
                await run_until_signal(
                    run_receiver_task(
                        opened.broker, max_async_tasks=settings.worker_concurrency, run_startup=False
                    )
                )
            finally:
                health.set("worker", False)
        return 0
    finally:
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
