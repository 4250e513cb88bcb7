"""The bounded log queue: its drop policy, its order, and its hand-over to the writer."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

import pytest

from telemetry.logging.queue import LEVEL_NAMES, BoundedLogQueue, level_index

_clock = itertools.count()


@dataclass(frozen=True)
class Entry:
    levelno: int
    name: str = ""
    created: float = field(default_factory=lambda: float(next(_clock)))


def fill(queue: BoundedLogQueue[Entry], *levels: int) -> list[Entry]:
    entries = [Entry(level, f"{logging.getLevelName(level)}-{i}") for i, level in enumerate(levels)]
    for entry in entries:
        assert queue.put(entry)
    return entries


def test_a_full_queue_drops_an_incoming_info_record_and_counts_it() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(3)
    kept = fill(queue, logging.INFO, logging.INFO, logging.DEBUG)
    assert not queue.put(Entry(logging.INFO, "late"))
    assert queue.take(10) == kept
    assert queue.dropped_total["info"] == 1


def test_a_warning_evicts_the_oldest_lower_level_record_from_a_full_queue() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(3)
    _first_info, error, second_info = fill(queue, logging.INFO, logging.ERROR, logging.INFO)
    warning = Entry(logging.WARNING, "warning")
    assert queue.put(warning)
    assert queue.take(10) == [error, second_info, warning]  # first_info, the oldest, went
    assert queue.dropped_total == {"debug": 0, "info": 1, "warning": 0, "error": 0, "critical": 0}


def test_warnings_are_dropped_only_when_the_queue_holds_nothing_else() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(2)
    kept = fill(queue, logging.WARNING, logging.CRITICAL)
    assert not queue.put(Entry(logging.ERROR, "one too many"))
    assert queue.take(10) == kept
    assert queue.dropped_total["error"] == 1


def test_an_info_storm_never_costs_a_warning() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(100)
    warnings = []
    for i in range(10_000):
        if i % 199 == 0:
            warnings.append(Entry(logging.WARNING, f"w{i}"))
            queue.put(warnings[-1])
        else:
            queue.put(Entry(logging.INFO))
        assert len(queue) <= 100
    queued = queue.take(1_000)
    assert [e for e in queued if e.levelno >= logging.WARNING] == warnings
    infos_queued = len(queued) - len(warnings)
    assert queue.dropped_total["warning"] == 0
    assert queue.dropped_total["info"] == 10_000 - len(warnings) - infos_queued


def test_take_returns_the_oldest_entries_of_both_lanes_in_call_order() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(10)
    entries = fill(queue, logging.INFO, logging.WARNING, logging.DEBUG, logging.ERROR, logging.INFO)
    assert queue.take(3) == entries[:3]
    assert queue.take(10) == entries[3:]


def test_take_in_pieces_keeps_every_entry_exactly_once_in_order() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(100)
    levels = [logging.INFO, logging.WARNING, logging.DEBUG, logging.ERROR] * 10
    entries = fill(queue, *levels)
    taken: list[Entry] = []
    while batch := queue.take(7):
        assert len(batch) <= 7
        taken.extend(batch)
    assert sorted(taken, key=lambda e: e.created) == entries
    assert len(set(taken)) == len(entries)


def test_drained_means_empty_and_nothing_in_flight() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(10)
    fill(queue, logging.INFO)
    assert not queue.wait_until_drained(0.01)
    assert queue.take(10)
    assert not queue.wait_until_drained(0.01), "taken but not yet written is not drained"
    queue.batch_done()
    assert queue.wait_until_drained(0.01)


def test_a_put_wakes_a_waiting_writer_at_once() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(10)
    woke_after: list[float] = []

    def writer() -> None:
        started = time.monotonic()
        queue.wait_for_entries(timeout=5.0)
        woke_after.append(time.monotonic() - started)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.05)
    fill(queue, logging.INFO)
    thread.join(5.0)
    assert woke_after and woke_after[0] < 1.0


def test_a_wait_that_timed_out_leaves_the_next_wait_blocking() -> None:
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(10)
    queue.wait_for_entries(timeout=0.01)
    started = time.monotonic()
    queue.wait_for_entries(timeout=0.05)
    assert time.monotonic() - started >= 0.04


def test_every_offered_record_and_every_drop_is_counted_by_level_at_the_put() -> None:
    """The counts move as records are offered, with no writer taking anything."""
    queue: BoundedLogQueue[Entry] = BoundedLogQueue(2)
    fill(queue, logging.INFO, logging.INFO)
    queue.put(Entry(logging.DEBUG))  # dropped
    queue.put(Entry(logging.ERROR))  # evicts the oldest INFO
    queue.put(Entry(logging.CRITICAL + 5))  # a custom level above CRITICAL evicts the other INFO
    assert queue.offered_by_level() == [1, 2, 0, 1, 1]
    assert queue.dropped_by_level() == [1, 2, 0, 0, 0]
    assert queue.dropped_total == {"debug": 1, "info": 2, "warning": 0, "error": 0, "critical": 0}


@pytest.mark.parametrize(
    ("levelno", "name"),
    [
        (5, "debug"),
        (10, "debug"),
        (20, "info"),
        (25, "info"),
        (30, "warning"),
        (45, "error"),
        (60, "critical"),
    ],
)
def test_custom_levels_count_with_the_standard_level_below(levelno: int, name: str) -> None:
    assert LEVEL_NAMES[level_index(levelno)] == name


def test_level_names_are_loggings_levels_in_severity_order() -> None:
    expected = [logging.getLevelName(n).lower() for n in (10, 20, 30, 40, 50)]
    assert list(LEVEL_NAMES) == expected


def test_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BoundedLogQueue(0)
