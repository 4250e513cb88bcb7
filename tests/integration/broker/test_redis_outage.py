"""A worker's broker through Redis outages: it waits quietly and idly while Redis is down, comes
back on its own, and recreates a consumer group lost with Redis's data so that the tasks already
in the stream are consumed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from service.config import load_settings
from service.workers.broker import STREAM, ConsumerState, ResilientStreamBroker, build_broker
from telemetry.metrics import Metrics
from tests.integration.db.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))


@pytest.fixture
async def clean(e2e_redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(e2e_redis_url)
    await client.delete(STREAM)
    yield client
    await client.delete(STREAM)
    await client.aclose()


async def _broker(url: str, metrics: Metrics) -> ResilientStreamBroker:
    settings = load_settings({"REDIS_URL": url, "JOB_LEASE_SECONDS": "5"}, env_file=None)
    broker = build_broker(settings, ConsumerState(metrics))
    assert isinstance(broker, ResilientStreamBroker)
    broker.is_worker_process = True
    await broker.startup()
    return broker


@contextlib.asynccontextmanager
async def _listening(broker: ResilientStreamBroker) -> AsyncIterator[asyncio.Queue[bytes]]:
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def pump() -> None:
        async for message in broker.listen():
            await message.ack()  # type: ignore[misc]
            received.put_nowait(bytes(message.data))

    task = asyncio.create_task(pump())
    try:
        yield received
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await broker.shutdown()


async def test_a_group_lost_with_redis_data_is_recreated_and_what_is_in_the_stream_consumed(
    e2e_redis_url: str, clean: aioredis.Redis
) -> None:
    metrics = Metrics(CollectorRegistry(), service="worker", process_metrics=False)
    broker = await _broker(e2e_redis_url, metrics)
    async with _listening(broker) as received:
        await clean.xadd(STREAM, {b"data": b"before"})
        assert await asyncio.wait_for(received.get(), 10) == b"before"
        # Redis restarts empty; the bot's next XADD recreates the stream, without a group.
        await clean.delete(STREAM)
        await clean.xadd(STREAM, {b"data": b"after-1"})
        await clean.xadd(STREAM, {b"data": b"after-2"})
        got = {await asyncio.wait_for(received.get(), 20), await asyncio.wait_for(received.get(), 20)}
        assert got == {b"after-1", b"after-2"}
    assert (
        metrics.registry.get_sample_value("csvbot_broker_receive_errors_total", {"kind": "no_group"}) or 0
    ) >= 1
    assert broker.consumer_state.consuming


async def test_a_worker_whose_redis_is_down_waits_idly_says_so_once_and_comes_back(
    e2e_redis_url: str, clean: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    target = urlsplit(e2e_redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    metrics = Metrics(CollectorRegistry(), service="worker", process_metrics=False)
    state_changes: list[bool] = []
    broker = await _broker(_via(e2e_redis_url, proxy.port), metrics)
    broker.consumer_state.on_change = state_changes.append
    with caplog.at_level(logging.DEBUG):
        async with _listening(broker) as received:
            await clean.xadd(STREAM, {b"data": b"one"})
            assert await asyncio.wait_for(received.get(), 10) == b"one"
            await proxy.stop()
            cpu, wall = time.process_time(), time.monotonic()
            await asyncio.sleep(6.0)
            cpu_share = (time.process_time() - cpu) / (time.monotonic() - wall)
            assert not broker.consumer_state.consuming
            errors = sum(
                metrics.registry.get_sample_value("csvbot_broker_receive_errors_total", {"kind": k}) or 0
                for k in ("connection", "timeout", "other", "no_group")
            )
            await clean.xadd(STREAM, {b"data": b"two"})
            await proxy.start()
            assert await asyncio.wait_for(received.get(), 20) == b"two"
    await proxy.stop()
    down_lines = [r for r in caplog.records if getattr(r, "event", None) == "broker_receive_failed"]
    back_lines = [r for r in caplog.records if getattr(r, "event", None) == "broker_recovered"]
    print(f"6 s of outage: {errors:.0f} failed reads, CPU {cpu_share:.1%}, {len(down_lines)} log line(s)")
    assert len(down_lines) == 1 and len(back_lines) == 1
    assert 1 <= errors <= 12, "capped backoff: one read every 0.5-5 s, not a busy loop"
    assert cpu_share < 0.2
    assert state_changes == [True, False, True]
    assert not [r for r in caplog.records if "Exception found while listening" in r.getMessage()]
