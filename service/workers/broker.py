"""The taskiq broker and the one task csvbot runs: ``csvbot.process_job``.

With ``REDIS_URL`` the broker is a Redis *stream*: a worker acknowledges a task only after it has
finished, so a worker killed mid-task leaves the message pending and another worker may claim it
once it has been idle for the job lease. taskiq-redis only looks for such messages after a read
that returned new ones, so on an idle queue it is the reaper (the job row's lease) that brings
the job back; whichever delivery comes second finds the job claimed and does nothing.

Without Redis an in-memory broker runs tasks inside the bot's own process (the embedded
default), ``WORKER_CONCURRENCY`` at a time.

The task carries the job id as its argument and the upload's W3C trace context as message
labels; everything else is read from the job row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from service.config import Settings

if TYPE_CHECKING:
    from service.workers.runner import JobRunner

TASK_NAME = "csvbot.process_job"
STREAM = "csvbot:jobs"
CONSUMER_GROUP = "csvbot-workers"
TRACE_LABELS = ("traceparent", "tracestate")


async def process_job_task(job_id: str, context: Context = TaskiqDepends()) -> None:
    runner: JobRunner = context.state.csvbot_runner
    labels = context.message.labels
    await runner.run(job_id, {k: str(labels[k]) for k in TRACE_LABELS if labels.get(k)})


def build_broker(settings: Settings) -> AsyncBroker:
    broker: AsyncBroker
    if settings.redis_url:
        lease_ms = int(settings.job_lease_seconds * 1000)
        broker = RedisStreamBroker(
            settings.redis_url,
            queue_name=STREAM,
            consumer_group_name=CONSUMER_GROUP,
            # Pending (unacknowledged) tasks older than the lease belong to a dead worker.
            idle_timeout=lease_ms,
            # The autoclaim lock must not outlive a killed worker either.
            unacknowledged_lock_timeout=max(1.0, settings.job_lease_seconds / 2),
            xread_block=1000,
        )
    else:
        broker = InMemoryBroker(max_async_tasks=settings.worker_concurrency)
    broker.register_task(process_job_task, task_name=TASK_NAME)
    return broker


def make_kick(broker: AsyncBroker) -> Callable[[str, dict[str, str]], Awaitable[None]]:
    """A function that puts ``job_id`` on the queue with its trace context as labels."""

    async def kick(job_id: str, carrier: dict[str, str]) -> None:
        labels = {k: v for k, v in carrier.items() if k in TRACE_LABELS}
        kicker: AsyncKicker[[str], None] = AsyncKicker(TASK_NAME, broker, labels)
        await kicker.kiq(job_id)

    return kick
