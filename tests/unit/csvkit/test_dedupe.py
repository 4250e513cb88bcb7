"""The row deduper: exact duplicates found across chunks, in file order, first copy kept."""

from __future__ import annotations

import polars as pl

from service.csvkit.dedupe import RowDeduper


def _frame(*columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame({f"c{i}": pl.Series(values=c, dtype=pl.String) for i, c in enumerate(columns)})


def test_first_copy_is_kept_and_later_ones_are_flagged_within_a_chunk() -> None:
    deduper = RowDeduper()
    assert deduper.first_seen(_frame(["1", "1", "2", "1"], ["x", "x", "x", "y"])) == [True, False, True, True]
    assert deduper.count == 3


def test_rows_repeating_in_a_later_chunk_are_duplicates() -> None:
    deduper = RowDeduper()
    assert deduper.first_seen(_frame([str(i) for i in range(1_000)])) is None  # all new: no mask
    mask = deduper.first_seen(_frame([str(i) for i in range(990, 1_010)]))
    assert mask == [False] * 10 + [True] * 10


def test_cells_are_compared_as_a_whole_row_not_concatenated() -> None:
    deduper = RowDeduper()
    assert deduper.first_seen(_frame(["a", "ab"], ["bc", "c"])) is None


def test_many_chunks_keep_exact_counts() -> None:
    deduper = RowDeduper()
    for start in range(0, 100_000, 1_000):
        deduper.first_seen(_frame([str(i % 50_000) for i in range(start, start + 1_000)]))
    assert deduper.count == 50_000
