"""Distinct counts: exact under the per-column budget, a HyperLogLog estimate past it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from service.csvkit.distinct import EXACT_BUDGET_VALUES, DistinctCounter, HyperLogLog


@pytest.mark.parametrize("cardinality", [10, 1_000, 20_000, 200_000])
def test_hyperloglog_estimate_is_within_five_percent(cardinality: int) -> None:
    sketch = HyperLogLog()
    sketch.add_all(f"value-{i}" for i in range(cardinality))
    assert abs(sketch.estimate() - cardinality) <= max(1, 0.05 * cardinality)


def test_hyperloglog_estimate_is_the_same_in_every_run() -> None:
    """A seeded hash, not the per-process salted hash(): the same file gives the same profile."""
    first, second = HyperLogLog(), HyperLogLog()
    first.add_all(str(i) for i in range(50_000))
    second.add_all(str(i) for i in reversed(range(50_000)))
    assert first.estimate() == second.estimate()


def test_hyperloglog_estimate_is_the_same_in_another_process() -> None:
    script = (
        "from service.csvkit.distinct import HyperLogLog\n"
        "s = HyperLogLog(); s.add_all(str(i) for i in range(50_000)); print(s.estimate())"
    )
    here = HyperLogLog()
    here.add_all(str(i) for i in range(50_000))
    other = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert int(other.stdout) == here.estimate()


def test_counter_is_exact_while_within_its_budget() -> None:
    counter = DistinctCounter(columns=1)
    counter.add_all([str(i % 500) for i in range(10_000)])
    assert (counter.count(), counter.is_exact) == (500, True)


def test_counter_switches_to_an_estimate_past_the_value_budget() -> None:
    columns = 10
    budget = EXACT_BUDGET_VALUES // columns
    counter = DistinctCounter(columns=columns)
    for start in range(0, 3 * budget, 1_000):
        counter.add_all([str(i) for i in range(start, start + 1_000)])
    assert counter.is_exact is False
    assert abs(counter.count() - 3 * budget) <= 0.05 * 3 * budget


def test_counter_switches_to_an_estimate_past_the_character_budget() -> None:
    """Few but long values: the character budget bounds memory, not the value count."""
    counter = DistinctCounter(columns=500)  # 8,000 characters each
    counter.add_all([f"{i:04d}" + "x" * 1_000 for i in range(20)])
    assert counter.is_exact is False
    assert abs(counter.count() - 20) <= 1


def test_a_sketch_fed_in_batches_has_the_registers_of_one_fed_at_once() -> None:
    """A batch only raises registers below its own ranks: batch after batch (repeats, overlaps
    and all), the registers end as the maximum rank per register over every value."""
    values = [f"v{i % 30_000}" for i in range(60_000)]
    whole = HyperLogLog()
    whole.add_all(values)
    batched = HyperLogLog()
    for start in range(0, len(values), 7_000):
        batched.add_all(values[start : start + 7_000])
    assert batched.estimate() == whole.estimate()
    assert batched._registers.to_list() == whole._registers.to_list()
    assert sum(batched._registers.to_list()) > 4_096  # ranks of 2 and more are there
