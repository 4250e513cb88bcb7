"""Storage benchmark: hung calls under two timeout patterns, and the layer's per-call overhead.

Runs the Supabase Storage test server in a child process (so its work does not share this
process's event loop or threads) and prints, side by side:

1. 20 concurrent downloads that hang, with a 1 s timeout each, done two ways:
   * ``asyncio.wait_for(asyncio.to_thread(sync_get), 1)`` — a blocking httpx call with the sync
     storage client's default 20 s timeout, the pattern the service used to rely on;
   * this layer's ``download_to_file`` (async httpx under one ``asyncio.timeout``).
   For each: wall time of the 20 calls, threads still alive when they have returned, connections
   the server still holds open, how long an unrelated ``asyncio.to_thread(lambda: None)`` started
   meanwhile has to wait, and how long until the process is back to its own threads.
2. p50/p99 latency per call with no faults: the layer vs a raw httpx call of the same request
   (``sign``: POST /object/sign; ``download``: GET into a file renamed into place).

Usage: ``.venv/bin/python bench/storage_bench.py`` (about 25 s: the sync timeout dominates).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from service.config import Settings
from service.errors import StorageTimeoutError
from service.storage import Storage, build_storage, input_key
from telemetry.metrics import Metrics

KEY = "bench-service-key"
BUCKET = "csvbot-bench"
OBJECT_KEY = input_key(1, "bench")
CONCURRENT = 20
TIMEOUT = 1.0
#: storage3's sync client default (storage3/constants.py DEFAULT_TIMEOUT): what a blocking call
#: inside to_thread would wait for a hung server before its thread is free again.
SYNC_CLIENT_TIMEOUT = 20.0
PROBE_DELAY = 0.1
OVERHEAD_CALLS = 400
WARMUP_CALLS = 40


@dataclass
class HangResult:
    wall_seconds: float
    extra_threads: int
    stuck_threads: int
    server_connections: int
    probe_wait_seconds: float
    clean_after_seconds: float


def start_server() -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "emulators.supabase_storage", "--key", KEY, "--bucket", BUCKET]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"storage test server did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1].strip()


def control(url: str, method: str, path: str, json: object | None = None) -> dict[str, object]:
    with httpx.Client(base_url=url) as client:
        response = client.request(method, path, json=json)
        response.raise_for_status()
        return response.json()


def server_connections(url: str) -> int:
    """Connections the server holds open, minus the stats request's own."""
    return int(control(url, "GET", "/_stats")["open_connections"]) - 1


def auth_headers() -> dict[str, str]:
    return {"apikey": KEY, "Authorization": f"Bearer {KEY}"}


async def probe_to_thread() -> float:
    """How long an unrelated, instant ``to_thread`` call waits for a worker thread."""
    await asyncio.sleep(PROBE_DELAY)
    started = time.perf_counter()
    await asyncio.to_thread(lambda: None)
    return time.perf_counter() - started


def threads_in_a_call() -> int:
    """Threads whose stack is inside httpx/httpcore right now: blocked in a storage request."""
    frames = sys._current_frames()
    stuck = 0
    for thread in threading.enumerate():
        frame = frames.get(thread.ident or -1)
        while frame is not None:
            if any(part in frame.f_code.co_filename for part in ("/httpx/", "/httpcore/")):
                stuck += 1
                break
            frame = frame.f_back
    return stuck


async def hang_wait_for_to_thread(url: str) -> HangResult:
    object_url = f"{url}/storage/v1/object/{BUCKET}/{OBJECT_KEY}"
    client = httpx.Client(timeout=SYNC_CLIENT_TIMEOUT, headers=auth_headers())
    baseline = threading.active_count()

    def sync_get() -> None:
        with contextlib.suppress(httpx.HTTPError):
            client.get(object_url)

    async def one() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(sync_get), TIMEOUT)

    started = time.perf_counter()
    probe = asyncio.create_task(probe_to_thread())
    await asyncio.gather(*(one() for _ in range(CONCURRENT)))
    wall = time.perf_counter() - started
    extra_threads, stuck = threading.active_count() - baseline, threads_in_a_call()
    # A blocking call on the loop is fine here: the executor is exactly what is jammed.
    connections = server_connections(url)
    probe_wait = await probe
    # wait_for gave up, the threads did not: they run until the sync client's own timeout.
    # Polling: the threads' stacks are what we observe; there is no event to wait on.
    while threads_in_a_call() and time.perf_counter() - started < SYNC_CLIENT_TIMEOUT + 10:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    clean_after = time.perf_counter() - started
    await asyncio.to_thread(client.close)
    return HangResult(wall, extra_threads, stuck, connections, probe_wait, clean_after)


async def hang_layer(storage: Storage, url: str, scratch: Path) -> HangResult:
    baseline = threading.active_count()

    async def one(i: int) -> None:
        with contextlib.suppress(StorageTimeoutError):
            await storage.download_to_file(OBJECT_KEY, scratch / f"h{i}")

    started = time.perf_counter()
    probe = asyncio.create_task(probe_to_thread())
    results = await asyncio.gather(*(one(i) for i in range(CONCURRENT)), return_exceptions=True)
    wall = time.perf_counter() - started
    unexpected = [r for r in results if isinstance(r, BaseException)]
    if unexpected:
        raise unexpected[0]
    # The probe's executor thread now idles in the pool: it is counted as alive, not as stuck.
    extra_threads, stuck = threading.active_count() - baseline, threads_in_a_call()
    probe_wait = await probe
    await asyncio.sleep(0.05)  # let the server notice the closed sockets
    connections = server_connections(url)
    # Nothing keeps running after the calls return: the process is clean when they are.
    return HangResult(wall, extra_threads, stuck, connections, probe_wait, wall)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def overhead(storage: Storage, url: str, scratch: Path) -> dict[str, tuple[list[float], list[float]]]:
    base = f"{url}/storage/v1"
    raw = httpx.AsyncClient(headers=auth_headers(), timeout=TIMEOUT * 10)

    async def raw_sign() -> None:
        response = await raw.post(f"{base}/object/sign/{BUCKET}/{OBJECT_KEY}", json={"expiresIn": "60"})
        response.raise_for_status()
        response.json()["signedURL"]

    async def raw_download() -> None:
        fd, tmp = tempfile.mkstemp(dir=scratch, prefix=".raw-")
        with os.fdopen(fd, "wb") as out:
            async with raw.stream("GET", f"{base}/object/{BUCKET}/{OBJECT_KEY}") as response:
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
        os.replace(tmp, scratch / "raw.csv")

    async def layer_sign() -> None:
        await storage.signed_url(OBJECT_KEY, 60)

    async def layer_download() -> None:
        await storage.download_to_file(OBJECT_KEY, scratch)

    pairs: dict[str, tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]] = {
        "sign": (layer_sign, raw_sign),
        "download 4 KiB": (layer_download, raw_download),
    }
    results: dict[str, tuple[list[float], list[float]]] = {}
    for name, (layer_call, raw_call) in pairs.items():
        layer_times: list[float] = []
        raw_times: list[float] = []
        for i in range(WARMUP_CALLS + OVERHEAD_CALLS):
            # Alternate which goes first so drift (GC, the other process) hits both alike.
            order = [(layer_call, layer_times), (raw_call, raw_times)]
            if i % 2:
                order.reverse()
            for call, times in order:
                started = time.perf_counter()
                await call()
                if i >= WARMUP_CALLS:
                    times.append(time.perf_counter() - started)
        results[name] = (layer_times, raw_times)
    await raw.aclose()
    return results


def build(url: str, scratch: Path) -> Storage:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        supabase_url=url,
        supabase_key=KEY,
        supabase_bucket=BUCKET,
        storage_timeout_seconds=TIMEOUT,
        storage_slow_seconds=TIMEOUT,
    )
    metrics = Metrics(CollectorRegistry(), process_metrics=False)
    # A recording SDK tracer (as in production), without an exporter.
    return build_storage(settings, metrics, tracer_provider=TracerProvider(), rng=random.Random(1))


async def layer_part(
    url: str, scratch: Path
) -> tuple[HangResult, dict[str, tuple[list[float], list[float]]]]:
    async with build(url, scratch) as storage:
        await storage.upload_bytes(OBJECT_KEY, os.urandom(4096), "text/csv")
        costs = await overhead(storage, url, scratch)
        control(url, "POST", "/_faults", {"kind": "hang", "operations": ["download"]})
        try:
            hang = await hang_layer(storage, url, scratch)
        finally:
            control(url, "DELETE", "/_faults")
    return hang, costs


async def thread_part(url: str) -> HangResult:
    control(url, "POST", "/_faults", {"kind": "hang", "operations": ["download"]})
    try:
        return await hang_wait_for_to_thread(url)
    finally:
        control(url, "DELETE", "/_faults")


def main() -> None:
    # The 20 timeouts are the point of the run; their warning lines would only bury the table.
    logging.getLogger("service.storage").setLevel(logging.ERROR)
    proc, url = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp)
            print(
                f"storage test server {url}; {os.cpu_count()} CPUs; default executor size "
                f"min(32, cpus + 4) = {min(32, (os.cpu_count() or 1) + 4)}"
            )
            print(f"\n{CONCURRENT} concurrent downloads that hang, {TIMEOUT:g} s timeout each\n")
            layer_hang, costs = asyncio.run(layer_part(url, scratch))
            thread_hang = asyncio.run(thread_part(url))
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    rows = [
        ("wall time of the 20 calls", "wall_seconds", "{:.2f} s"),
        ("extra threads alive when they returned", "extra_threads", "{:d}"),
        ("  of which stuck inside a request", "stuck_threads", "{:d}"),
        ("connections the server still holds", "server_connections", "{:d}"),
        ("unrelated to_thread(lambda: None) waited", "probe_wait_seconds", "{:.3f} s"),
        ("no request left running after", "clean_after_seconds", "{:.1f} s"),
    ]
    header = f"{'':42}{'wait_for(to_thread(sync))':>28}{'storage layer':>18}"
    print(header)
    print("-" * len(header))
    for label, attr, fmt in rows:
        left = fmt.format(getattr(thread_hang, attr))
        right = fmt.format(getattr(layer_hang, attr))
        print(f"{label:42}{left:>28}{right:>18}")

    print("(extra threads include idle executor workers: in the layer column, the probe's own)")
    print(f"\nper-call latency, no faults ({OVERHEAD_CALLS} calls each, interleaved)\n")
    header = f"{'':16}{'raw p50':>10}{'layer p50':>11}{'+p50':>9}{'raw p99':>10}{'layer p99':>11}{'+p99':>9}"
    print(header)
    print("-" * len(header))
    for name, (layer_times, raw_times) in costs.items():
        lp50, lp99 = percentiles(layer_times)
        rp50, rp99 = percentiles(raw_times)
        ms = 1000.0
        print(
            f"{name:16}{rp50 * ms:>8.2f}ms{lp50 * ms:>9.2f}ms{(lp50 - rp50) * ms:>7.2f}ms"
            f"{rp99 * ms:>8.2f}ms{lp99 * ms:>9.2f}ms{(lp99 - rp99) * ms:>7.2f}ms"
        )


if __name__ == "__main__":
    main()
