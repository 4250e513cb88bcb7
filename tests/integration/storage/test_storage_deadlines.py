"""Every Supabase storage call ends at its deadline, really cancelled: no thread or socket survives.

The deadline is 1 s here; a call must end within deadline + 0.5 s. These tests wait for deadlines,
so they live with the integration tests rather than in the fast unit suite.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import psutil
import pytest
from prometheus_client import CollectorRegistry

from emulators.supabase_storage import Fault, SupabaseStorageServer
from service.errors import StorageTimeoutError
from service.storage import Storage, input_key
from telemetry.metrics import Metrics
from tests.unit.storage.support import make_storage, outcomes, sample, settings_for

pytestmark = pytest.mark.integration

DEADLINE = 1.0
GRACE = 0.5
KEY_A = input_key(21, "deadline")
BODY = os.urandom(256 * 1024)


@pytest.fixture
async def remote(
    storage_server: SupabaseStorageServer, metrics: Metrics, tmp_path: Path
) -> AsyncIterator[Storage]:
    async with make_storage(settings_for(storage_server.url, tmp_path, timeout=DEADLINE), metrics) as backend:
        await backend.upload_bytes(KEY_A, BODY, "text/csv")
        yield backend


def client_connections(port: int) -> int:
    """Our process's established TCP connections to the server's port (the client side)."""
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


async def settled(probe: Callable[[], int], limit: int) -> int:
    """``probe()`` once it is at most ``limit``, or its value after 1 s (closes are asynchronous)."""
    value = probe()
    for _ in range(100):
        if value <= limit:
            break
        await asyncio.sleep(0.01)
        value = probe()
    return value


async def assert_nothing_left_behind(
    server: SupabaseStorageServer, threads_before: int, connections_before: int
) -> None:
    assert threading.active_count() == threads_before
    assert await settled(lambda: server.open_connections, connections_before) <= connections_before
    assert await settled(lambda: client_connections(server.port), connections_before) <= connections_before


async def timed(call: Awaitable[object]) -> float:
    started = time.monotonic()
    with pytest.raises(StorageTimeoutError):
        await call
    return time.monotonic() - started


OPERATIONS: dict[str, tuple[str, Callable[[Storage, Path], Awaitable[object]]]] = {
    # storage operation: (the server route to hang, the storage call)
    "download": ("download", lambda s, d: s.download_to_file(KEY_A, d)),
    "upload": ("upload", lambda s, d: s.upload_bytes(KEY_A, BODY, "text/csv")),
    "sign": ("sign", lambda s, d: s.signed_url(KEY_A, 60)),
    "delete": ("remove", lambda s, d: s.delete(KEY_A)),
    "health": ("get_bucket", lambda s, d: s.health()),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_a_hung_call_ends_at_the_deadline_and_leaves_nothing_behind(
    name: str,
    remote: Storage,
    storage_server: SupabaseStorageServer,
    registry: CollectorRegistry,
    tmp_path: Path,
) -> None:
    server_op, call = OPERATIONS[name]
    dest = tmp_path / "scratch"
    dest.mkdir()
    threads, connections = threading.active_count(), storage_server.open_connections
    storage_server.faults.add(Fault.hang(operations={server_op}))
    elapsed = await timed(call(remote, dest))
    assert DEADLINE <= elapsed < DEADLINE + GRACE
    assert storage_server.request_count(server_op, "hang") >= 1
    assert sample(registry, "csvbot_storage_timeouts_total", operation=name) == 1
    assert outcomes(registry, name, "storage_timeout") == 1
    assert list(dest.iterdir()) == []
    await assert_nothing_left_behind(storage_server, threads, connections)


async def test_a_trickling_download_ends_at_the_deadline_without_a_partial_file(
    remote: Storage, storage_server: SupabaseStorageServer, tmp_path: Path
) -> None:
    """A byte every 50 ms never trips a per-read timeout; only the overall deadline stops it."""
    dest = tmp_path / "scratch"
    dest.mkdir()
    threads, connections = threading.active_count(), storage_server.open_connections
    storage_server.faults.add(Fault.trickle(chunk_bytes=1, interval_seconds=0.05, operations={"download"}))
    elapsed = await timed(remote.download_to_file(KEY_A, dest))
    assert DEADLINE <= elapsed < DEADLINE + GRACE
    assert list(dest.iterdir()) == []
    await assert_nothing_left_behind(storage_server, threads, connections)


async def test_a_hung_file_upload_ends_at_the_deadline(
    remote: Storage, storage_server: SupabaseStorageServer, tmp_path: Path
) -> None:
    """The server never reads the body: the client blocks writing until the deadline cancels it."""
    source = tmp_path / "upload.csv"
    source.write_bytes(os.urandom(8 * 1024 * 1024))
    threads, connections = threading.active_count(), storage_server.open_connections
    storage_server.faults.add(Fault.hang(operations={"upload"}))
    elapsed = await timed(remote.upload_file(input_key(21, "big-upload"), source, "text/csv"))
    assert DEADLINE <= elapsed < DEADLINE + GRACE
    await assert_nothing_left_behind(storage_server, threads, connections)


async def test_twenty_concurrent_hung_calls_all_end_at_the_deadline(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry, tmp_path: Path
) -> None:
    threads, connections = threading.active_count(), storage_server.open_connections
    storage_server.faults.add(Fault.hang(operations={"download"}))
    started = time.monotonic()
    results = await asyncio.gather(
        *(remote.download_to_file(KEY_A, tmp_path / f"d{i}") for i in range(20)), return_exceptions=True
    )
    elapsed = time.monotonic() - started
    assert all(isinstance(r, StorageTimeoutError) for r in results)
    assert elapsed < DEADLINE + GRACE
    assert storage_server.request_count("download", "hang") == 20
    assert sample(registry, "csvbot_storage_timeouts_total", operation="download") == 20
    await assert_nothing_left_behind(storage_server, threads, connections)
    # The layer still works afterwards.
    storage_server.faults.clear()
    assert (await remote.download_to_file(KEY_A, tmp_path / "after")).read_bytes() == BODY


async def test_retries_stop_at_the_deadline_when_storage_keeps_failing_slowly(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry
) -> None:
    """503s that each take 0.4 s: two are retried, the third attempt is cut off by the deadline."""
    storage_server.faults.add(Fault.latency(0.4, operations={"sign"}))
    storage_server.faults.add(Fault.error_status(503, operations={"sign"}))
    elapsed = await timed(remote.signed_url(KEY_A, 60))
    assert elapsed < DEADLINE + GRACE
    assert storage_server.request_count("sign", 503) == 2
    assert sample(registry, "csvbot_storage_retries_total", operation="sign") == 2


async def test_a_50_mb_file_streams_both_ways_in_bounded_memory(
    storage_server: SupabaseStorageServer, metrics: Metrics, tmp_path: Path
) -> None:
    """Peak traced memory (client and in-process server together) stays far below the file size."""
    size = 50 * 1024 * 1024
    source = tmp_path / "big.csv"
    with source.open("wb") as out:
        chunk = os.urandom(1024 * 1024)
        for _ in range(size // len(chunk)):
            out.write(chunk)
    key = input_key(21, "fifty")
    async with make_storage(settings_for(storage_server.url, tmp_path, timeout=60), metrics) as backend:
        tracemalloc.start()
        try:
            await backend.upload_file(key, source, "text/csv")
            _, upload_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            path = await backend.download_to_file(key, tmp_path / "out")
            _, download_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert path.stat().st_size == size
    assert upload_peak < size / 10, upload_peak
    assert download_peak < size / 10, download_peak
