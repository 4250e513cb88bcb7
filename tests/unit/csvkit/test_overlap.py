"""The pass's threaded stages: order kept, errors raised in the caller, no thread left behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from service.csvkit.overlap import ReadAhead, WriteBehind


def _stage_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("stage-")]


def test_read_ahead_yields_every_item_in_order_from_its_own_thread() -> None:
    threads: set[str] = set()

    def items() -> Iterator[int]:
        for number in range(100):
            threads.add(threading.current_thread().name)
            yield number

    with ReadAhead(items(), depth=4, name="stage-read") as ahead:
        assert list(ahead) == list(range(100))
    assert len(threads) == 1 and threads != {threading.current_thread().name}
    assert _stage_threads() == []


def test_read_ahead_runs_at_most_depth_steps_ahead() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for number in range(50):
            produced.append(number)
            yield number

    with ReadAhead(items(), depth=3, name="stage-read") as ahead:
        assert next(ahead) == 0
        time.sleep(0.2)  # room for the thread to run on, were it unbounded
        assert len(produced) <= 1 + 3
    assert _stage_threads() == []


def test_read_ahead_raises_the_readers_error_in_the_caller_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("bad block")

    seen: list[int] = []
    with (
        pytest.raises(ValueError, match="bad block"),
        ReadAhead(items(), depth=4, name="stage-read") as ahead,
    ):
        seen.extend(ahead)
    assert seen == [1, 2]
    assert _stage_threads() == []


def test_leaving_read_ahead_early_closes_the_generator_on_its_thread() -> None:
    closed_on: list[str] = []

    def items() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed_on.append(threading.current_thread().name)

    with pytest.raises(KeyboardInterrupt), ReadAhead(items(), depth=4, name="stage-read") as ahead:
        for number in ahead:
            if number == 10:
                raise KeyboardInterrupt  # as a cancelled job's callback does
    assert len(closed_on) == 1 and closed_on[0].startswith("stage-read")
    assert _stage_threads() == []


def test_write_behind_runs_calls_in_order_off_the_callers_thread() -> None:
    done: list[tuple[int, str]] = []
    with WriteBehind(depth=2, name="stage-write") as behind:
        for number in range(50):
            behind.submit(lambda number=number: done.append((number, threading.current_thread().name)))
        behind.finish()
    assert [number for number, _ in done] == list(range(50))
    assert {name for _, name in done} != {threading.current_thread().name}
    assert _stage_threads() == []


def test_write_behind_keeps_at_most_depth_calls_waiting() -> None:
    release = threading.Event()
    started = threading.Semaphore(0)
    submitted = 0

    def blocked() -> None:
        started.release()
        release.wait(30)

    def submit_many(behind: WriteBehind) -> None:
        nonlocal submitted
        for _ in range(10):
            behind.submit(blocked)
            submitted += 1

    with WriteBehind(depth=2, name="stage-write") as behind:
        feeder = threading.Thread(target=submit_many, args=(behind,))
        feeder.start()
        assert started.acquire(timeout=30)  # the first call runs and blocks
        feeder.join(0.3)
        assert submitted <= 2  # the third submit waits for room
        release.set()
        feeder.join(30)
        behind.finish()
    assert submitted == 10


def test_write_behind_raises_the_first_error_and_skips_the_calls_after_it() -> None:
    ran: list[int] = []

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), WriteBehind(depth=8, name="stage-write") as behind:
        behind.submit(lambda: ran.append(1))
        behind.submit(fail)
        behind.submit(lambda: ran.append(3))
        behind.finish()
    assert ran == [1]
    assert _stage_threads() == []


def test_write_behind_error_surfaces_at_a_later_submit() -> None:
    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), WriteBehind(depth=1, name="stage-write") as behind:
        behind.submit(fail)
        for _ in range(3):
            behind.submit(lambda: None)
    assert _stage_threads() == []
