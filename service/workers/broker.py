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

Outages (:class:`ResilientStreamBroker`): taskiq's receiver restarts a broker's ``listen`` at once
whenever it raises, so a worker whose Redis is down used to spin at full CPU writing a traceback
per loop, and a Redis restarted empty (no consumer group: ``XREADGROUP`` answers ``NOGROUP``)
kept it failing forever. Our ``listen`` never raises a broker error: it backs off (full jitter,
capped), logs one line per change of state, counts each failure, recreates a lost group at id
``0`` (so messages the bot added since the restart are consumed, not skipped as ``$`` would), and
reports whether it can consume (:class:`ConsumerState`) to ``/readyz`` and the heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage, AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from service.config import Settings
from telemetry import slo
from telemetry.metrics import Metrics

if TYPE_CHECKING:
    from service.workers.runner import JobRunner

TASK_NAME = "csvbot.process_job"
STREAM = "csvbot:jobs"
CONSUMER_GROUP = "csvbot-workers"
TRACE_LABELS = ("traceparent", "tracestate")
#: Pending tasks of dead consumers are looked for this often, whether or not new ones arrive.
AUTOCLAIM_INTERVAL_SECONDS = 10.0

log = logging.getLogger(__name__)


class ConsumerState:
    """Whether this worker can read tasks from the broker, and since when (read by ``/readyz``
    and written into the heartbeat). Logs a line on each change, never one per attempt."""

    def __init__(
        self, metrics: Metrics | None = None, on_change: Callable[[bool], None] | None = None
    ) -> None:
        self.metrics = metrics
        #: Told at once when consuming starts or stops (readiness need not wait for its probe).
        self.on_change = on_change
        self.consuming = False
        self.reason: str | None = "starting"
        self.since = time.time()
        self._down_since = time.monotonic()
        if metrics is not None:
            metrics.broker_consuming.set(0)

    def ok(self) -> None:
        if self.consuming:
            return
        was, waited = self.reason, time.monotonic() - self._down_since
        self.consuming, self.reason, self.since = True, None, time.time()
        if self.metrics is not None:
            self.metrics.broker_consuming.set(1)
        if self.on_change is not None:
            self.on_change(True)
        if was != "starting":
            log.warning(
                "reading tasks from the broker again",
                extra={"event": "broker_recovered", "after": was, "down_seconds": round(waited, 1)},
            )

    def failed(self, kind: str, exc: BaseException) -> None:
        if self.metrics is not None:
            self.metrics.broker_receive_errors.labels(kind).inc()
        if not self.consuming and self.reason == kind:
            return  # still the same outage: already said
        if self.consuming:
            self._down_since = time.monotonic()
        self.consuming, self.reason, self.since = False, kind, time.time()
        if self.metrics is not None:
            self.metrics.broker_consuming.set(0)
        if self.on_change is not None:
            self.on_change(False)
        log.warning(
            "cannot read tasks from the broker (%s); retrying with backoff",
            kind,
            extra={"event": "broker_receive_failed", "kind": kind, "error": f"{type(exc).__name__}: {exc}"},
        )

    def describe(self) -> dict[str, object]:
        return {"consuming": self.consuming, "reason": self.reason, "since": self.since}


def receive_error_kind(exc: BaseException) -> str:
    """``csvbot_broker_receive_errors_total{kind}`` of a failed read."""
    if isinstance(exc, ResponseError):
        # A Redis error reply starts with its error code, the protocol's stable part. UNBLOCKED:
        # the stream was deleted under a blocked read, and its group with it.
        return "no_group" if str(exc).startswith(("NOGROUP", "UNBLOCKED")) else "other"
    if isinstance(exc, RedisTimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, RedisConnectionError | OSError):
        return "connection"
    return "other"


def receive_backoff(failures: int) -> float:
    """Full jitter, doubling from BROKER_BACKOFF_BASE_SECONDS up to BROKER_BACKOFF_CAP_SECONDS."""
    ceiling = min(slo.BROKER_BACKOFF_CAP_SECONDS, slo.BROKER_BACKOFF_BASE_SECONDS * 2 ** (failures - 1))
    return random.uniform(ceiling / 2, ceiling)


class ResilientStreamBroker(RedisStreamBroker):
    """The Redis stream broker, with a ``listen`` that outlives Redis outages (module docstring)."""

    def __init__(self, url: str, *, consumer_state: ConsumerState, **kwargs: Any) -> None:
        # A lost group is recreated from the start of the stream: nothing added since is skipped.
        super().__init__(url, consumer_id="0", **kwargs)
        self.consumer_state = consumer_state
        self._last_autoclaim = 0.0

    async def startup(self) -> None:
        try:
            await super().startup()
        except RedisError as exc:  # Redis is down: listen() declares the group once it is back
            self.consumer_state.failed(receive_error_kind(exc), exc)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        failures = 0
        group_ready = False
        current = asyncio.current_task()
        while True:
            if current is not None and current.cancelling():
                # redis-py can swallow a cancellation during a blocking read: honour it here.
                raise asyncio.CancelledError
            try:
                if not group_ready:
                    await self._declare_consumer_group()  # BUSYGROUP (it exists) is fine
                    group_ready = True
                async for message in self._read():
                    yield message
                self.consumer_state.ok()
                failures = 0
                continue
            except (RedisError, OSError) as exc:
                if current is not None and current.cancelling():
                    raise  # redis-py may turn a cancelled read into a connection error
                kind = receive_error_kind(exc)
                group_ready = group_ready and kind != "no_group"
                self.consumer_state.failed(kind, exc)
            failures += 1
            await asyncio.sleep(receive_backoff(failures))

    async def _read(self) -> AsyncGenerator[AckableMessage, None]:
        """One blocking read of new tasks, then, now and then, tasks a dead consumer left pending."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            # redis-py types replies loosely: [[stream, [(id, {field: value})]]].
            fetched: Any = await redis.xreadgroup(
                self.consumer_group_name,
                self.consumer_name,
                {self.queue_name: ">"},
                block=self.block,
                count=self.count,
                noack=False,
            )
            messages = [
                (stream, msg_id, fields) for stream, batch in fetched or [] for msg_id, fields in batch
            ]
            if time.monotonic() - self._last_autoclaim >= AUTOCLAIM_INTERVAL_SECONDS:
                self._last_autoclaim = time.monotonic()
                claimed: Any = await redis.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=self.unacknowledged_batch_size,
                )
                messages += [(self.queue_name, msg_id, fields) for msg_id, fields in claimed[1] if fields]
        for stream, msg_id, fields in messages:
            name = stream.decode() if isinstance(stream, bytes) else str(stream)
            yield AckableMessage(data=fields[b"data"], ack=self._ack_generator(id=msg_id, queue_name=name))


async def process_job_task(job_id: str, context: Context = TaskiqDepends()) -> None:
    runner: JobRunner = context.state.csvbot_runner
    labels = context.message.labels
    await runner.run(job_id, {k: str(labels[k]) for k in TRACE_LABELS if labels.get(k)})


def build_broker(settings: Settings, consumer_state: ConsumerState | None = None) -> AsyncBroker:
    broker: AsyncBroker
    if settings.redis_url:
        lease_ms = int(settings.job_lease_seconds * 1000)
        broker = ResilientStreamBroker(
            settings.redis_url,
            consumer_state=consumer_state or ConsumerState(),
            queue_name=STREAM,
            consumer_group_name=CONSUMER_GROUP,
            # Pending (unacknowledged) tasks older than the lease belong to a dead worker.
            idle_timeout=lease_ms,
            # The autoclaim lock must not outlive a killed worker either.
            unacknowledged_lock_timeout=max(1.0, settings.job_lease_seconds / 2),
            xread_block=1000,
            # A Redis that hangs (rather than refusing) must not hang a read or a kick forever.
            socket_timeout=6.0,
            socket_connect_timeout=5.0,
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
