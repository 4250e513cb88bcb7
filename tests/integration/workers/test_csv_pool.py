"""CSV work in child processes: same results as in-process, typed errors intact, progress on the
loop, a cancelled or overdue job really stops its child's work, and children run below the
loop's CPU priority without being starved."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from service.csvkit import CsvLimits, process_csv
from service.errors import EmptyFileError, ProcessingTimeoutError
from service.workers.csv_pool import CHILD_NICENESS, CsvPool
from telemetry.metrics import Metrics

LIMITS = CsvLimits(max_bytes=200 * 2**20, max_rows=10_000_000, max_columns=500, max_field_chars=100_000)


def _csv(path: Path, rows: int) -> Path:
    lines = ["id,name,amount,when"]
    lines += [f"{i},name {i % 977},{i * 0.37:.2f},2024-01-{i % 28 + 1:02d}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # About 40 MB: several seconds of work for the engine, so an unstopped child stays busy long
    # after the test has cancelled it.
    return _csv(tmp_path_factory.mktemp("big") / "big.csv", 1_000_000)


def _restarts(registry: CollectorRegistry, cause: str) -> float:
    return registry.get_sample_value("csvbot_csv_pool_restarts_total", {"cause": cause}) or 0.0


async def _pool(registry: CollectorRegistry, size: int = 1, grace: float = 5.0) -> CsvPool:
    pool = CsvPool(size, Metrics(registry, process_metrics=False), cancel_grace=grace)
    await pool.start()
    return pool


async def test_a_child_gives_the_same_outputs_and_reports_progress_on_the_loop(tmp_path: Path) -> None:
    """The pool's cleaned file and profile equal the in-process pass; progress arrives on the loop thread."""
    source = _csv(tmp_path / "in.csv", 200_000)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    expected = process_csv(source, tmp_path / "a", LIMITS)
    pool = await _pool(CollectorRegistry())
    seen: list[tuple[float, bool]] = []
    try:
        result = await pool.run(
            source,
            tmp_path / "b",
            LIMITS,
            lambda f: seen.append((f, threading.current_thread() is threading.main_thread())),
            deadline=120,
        )
    finally:
        await pool.aclose()
    assert result.cleaned_path.read_bytes() == expected.cleaned_path.read_bytes()
    assert result.profile_path.read_bytes() == expected.profile_path.read_bytes()
    assert (result.rows_in, result.summary_text) == (expected.rows_in, expected.summary_text)
    assert seen and all(on_loop for _, on_loop in seen)
    assert seen[-1][0] == 1.0


def _child_threads(pool: CsvPool) -> list[int]:
    children = [p.pid for slot in pool._slots for p in slot.executor._processes.values()]
    return [int(tid) for pid in children for tid in os.listdir(f"/proc/{pid}/task")]


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
async def test_every_thread_of_a_child_runs_below_the_loops_priority(tmp_path: Path) -> None:
    """The child and the threads its pass starts (the stages, polars' pool) yield to the bot's."""
    source = _csv(tmp_path / "in.csv", 50_000)
    pool = await _pool(CollectorRegistry())
    try:
        await pool.run(source, tmp_path, LIMITS, lambda f: None, deadline=120)
        threads = _child_threads(pool)
        classes = {tid: (os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)) for tid in threads}
    finally:
        await pool.aclose()
    assert len(threads) > 1  # polars' pool outlives the pass
    assert classes == dict.fromkeys(threads, (os.SCHED_OTHER, CHILD_NICENESS))


async def test_a_child_still_gets_cpu_when_every_core_is_busy(tmp_path: Path) -> None:
    """Lower priority, never none: with a normal-priority spinner on every core, a job of a few
    seconds still finishes in time (in the idle CPU class it crawled past its deadline)."""
    source = _csv(tmp_path / "in.csv", 200_000)
    pool = await _pool(CollectorRegistry())
    spinners: list[asyncio.subprocess.Process] = []
    try:
        for _ in range(os.cpu_count() or 2):
            spinners.append(await asyncio.create_subprocess_exec(sys.executable, "-c", "while True: pass"))
        result = await pool.run(source, tmp_path, LIMITS, lambda f: None, deadline=60)
    finally:
        for spinner in spinners:
            spinner.kill()
            await spinner.wait()
        await pool.aclose()
    assert result.rows_in == 200_000


async def test_a_typed_error_keeps_its_kind_and_user_message(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    pool = await _pool(CollectorRegistry())
    try:
        with pytest.raises(EmptyFileError) as caught:
            await pool.run(tmp_path / "empty.csv", tmp_path, LIMITS, lambda f: None, deadline=60)
    finally:
        await pool.aclose()
    assert caught.value.user_message == "That file is empty (0 bytes)."
    assert str(caught.value) == "0 bytes"


async def _started(pool: CsvPool, source: Path, out: Path) -> asyncio.Task[object]:
    first = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        pool.run(source, out, LIMITS, lambda f: first.set(), deadline=120)
    )
    await asyncio.wait_for(first.wait(), 60)  # the child is in the streaming pass
    return task


async def _small_job_seconds(pool: CsvPool, tmp_path: Path) -> float:
    small = _csv(tmp_path / "small.csv", 100)
    (tmp_path / "small").mkdir()
    started = time.monotonic()
    await pool.run(small, tmp_path / "small", LIMITS, lambda f: None, deadline=60)
    return time.monotonic() - started


async def test_a_cancelled_job_stops_its_child_at_the_next_tick(big: Path, tmp_path: Path) -> None:
    """After cancelling, the one child is free for the next job at once: it stopped, not finished."""
    registry = CollectorRegistry()
    pool = await _pool(registry)
    (tmp_path / "big").mkdir()
    try:
        task = await _started(pool, big, tmp_path / "big")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The 40 MB file needs several more seconds; a stopped child takes the next job now.
        assert await _small_job_seconds(pool, tmp_path) < 3.0
    finally:
        await pool.aclose()
    assert _restarts(registry, "cancelled") == 0  # the flag did it; nothing was killed
    assert not list((tmp_path / "big").glob("*.csv"))  # no committed outputs


async def test_a_child_that_does_not_stop_in_time_is_killed_and_replaced(big: Path, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    pool = await _pool(registry, grace=0.0)
    (tmp_path / "big").mkdir()
    try:
        task = await _started(pool, big, tmp_path / "big")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _restarts(registry, "cancelled") == 1
        assert await _small_job_seconds(pool, tmp_path) < 30.0  # a fresh child serves the next job
    finally:
        await pool.aclose()


async def test_a_job_past_its_deadline_fails_and_its_child_stops(big: Path, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    pool = await _pool(registry)
    (tmp_path / "big").mkdir()
    try:
        with pytest.raises(ProcessingTimeoutError):
            await pool.run(big, tmp_path / "big", LIMITS, lambda f: None, deadline=1.0)
        assert await _small_job_seconds(pool, tmp_path) < 3.0
    finally:
        await pool.aclose()
