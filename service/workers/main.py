"""``csvbot worker``: a worker process reading jobs from the Redis stream.

Run as many as needed; each is a consumer in the same group, so each task goes to one of them.

SIGTERM (or SIGINT) drains like the bot: the worker stops taking tasks at once, lets running jobs
finish for up to ``WORKER_DRAIN_SECONDS``, then cancels what is left (their leases bring them
back) and closes. A second signal skips the wait.

``csvbot worker --check`` is the container health check: healthy while the heartbeat file was
written within ``WORKER_HEARTBEAT_STALE_SECONDS`` *and* the worker can read tasks — a worker that
has not been able to consume (Redis down, its consumer group gone) for that long is unhealthy too,
and says why.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from taskiq import AsyncBroker
from taskiq.receiver import Receiver

from service.config import Settings
from service.errors import ConfigError
from service.heap import freeze_startup_heap
from service.process import open_process
from service.runtime import Telemetry
from service.workers.broker import receive_backoff
from service.workers.reaper import heartbeat_age, heartbeat_status
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
            drain_seconds=slo.WORKER_DRAIN_SECONDS,
        ) as opened:
            health.set("worker", True)
            freeze_startup_heap()
            log.info(
                "worker started",
                extra={"event": "worker_started", "concurrency": settings.worker_concurrency},
            )
            try:
                await consume_until_signal(opened.broker, settings.worker_concurrency)
            finally:
                health.set("worker", False)
        return 0
    finally:
        await telemetry.stop()


async def consume_until_signal(broker: AsyncBroker, concurrency: int) -> None:
    """Run taskiq's receiver until SIGTERM/SIGINT, then drain it (module docstring)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    consuming = asyncio.ensure_future(consume(broker, concurrency, stop))

    def on_signal() -> None:
        if stop.is_set():
            consuming.cancel()  # a second signal: no more waiting
            return
        log.info("stopping: no new tasks; letting running jobs finish", extra={"event": "worker_draining"})
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    try:
        await consuming
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def consume(broker: AsyncBroker, concurrency: int, stop: asyncio.Event) -> None:
    """Receive tasks until ``stop`` is set; running tasks then get WORKER_DRAIN_SECONDS.

    The broker's ``listen`` rides out Redis outages itself; should the receiver still fail, it is
    restarted after a backoff rather than at once (taskiq's own loop would spin)."""
    failures = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csvbot-taskiq") as executor:
        while not stop.is_set():
            receiver = Receiver(
                broker=broker,
                executor=executor,
                run_startup=False,
                max_async_tasks=concurrency,
                wait_tasks_timeout=slo.WORKER_DRAIN_SECONDS,
            )
            try:
                await receiver.listen(stop)
            except Exception:
                failures += 1
                log.exception("task receiver failed; restarting it", extra={"event": "receiver_failed"})
                await asyncio.sleep(receive_backoff(failures))


def check_worker(settings: Settings) -> int:
    """0 when this container's worker is alive and can read tasks, 1 otherwise (with the reason)."""
    path = settings.worker_heartbeat_file
    age = heartbeat_age(path)
    if age is None:
        print(f"unhealthy: no heartbeat file at {path}", file=sys.stderr)
        return 1
    if age > slo.WORKER_HEARTBEAT_STALE_SECONDS:
        print(f"unhealthy: last heartbeat {age:.0f} s ago", file=sys.stderr)
        return 1
    status = heartbeat_status(path)
    since = status.get("since")
    if status.get("consuming") is False and isinstance(since, int | float):
        down = time.time() - since
        if down > slo.WORKER_HEARTBEAT_STALE_SECONDS:
            reason = status.get("reason")
            print(
                f"unhealthy: cannot read tasks from the broker ({reason}) for {down:.0f} s", file=sys.stderr
            )
            return 1
    print(f"healthy: last heartbeat {age:.1f} s ago")
    return 0
