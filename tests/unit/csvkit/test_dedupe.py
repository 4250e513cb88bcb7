"""The row deduper: exact duplicates found across chunks, in file order, first copy kept."""

from __future__ import annotations

import polars as pl

from service.csvkit.dedupe import RowDeduper, _repeated


def _frame(*columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame({f"c{i}": pl.Series(values=c, dtype=pl.String) for i, c in enumerate(columns)})


def test_first_copy_is_kept_and_later_ones_are_flagged_within_a_chunk() -> None:
    deduper = RowDeduper()
    mask = deduper.first_seen(_frame(["1", "1", "2", "1"], ["x", "x", "x", "y"]))
    assert mask is not None and mask.to_list() == [True, False, True, True]
    assert deduper.count == 3


def test_rows_repeating_in_a_later_chunk_are_duplicates() -> None:
    deduper = RowDeduper()
    assert deduper.first_seen(_frame([str(i) for i in range(1_000)])) is None  # all new: no mask
    mask = deduper.first_seen(_frame([str(i) for i in range(990, 1_010)]))
    assert mask is not None and mask.to_list() == [False] * 10 + [True] * 10


def test_cells_are_compared_as_a_whole_row_not_concatenated() -> None:
    deduper = RowDeduper()
    assert deduper.first_seen(_frame(["a", "ab"], ["bc", "c"])) is None


def test_many_chunks_keep_exact_counts() -> None:
    """Chunks of varying size, so sorted runs of the key table are merged many times."""
    deduper = RowDeduper()
    start, kept = 0, 0
    for size in [1_000, 3_000, 500, 7_000, 1_000] * 6:
        mask = deduper.first_seen(_frame([str(i % 50_000) for i in range(start, start + size)]))
        kept += size if mask is None else sum(mask)
        start += size
    assert deduper.count == kept == 50_000


def test_stored_keys_sharing_a_first_half_are_told_apart_by_the_second() -> None:
    """Odds ~n²/2⁶⁵ for real rows, so the table is set up by hand to take that path."""
    run = pl.DataFrame(
        {"key_a": [5, 7, 7, 7, 9], "key_b": [1, 10, 20, 30, 2]},
        schema=dict.fromkeys(["key_a", "key_b"], pl.UInt64),
    )
    new = pl.DataFrame(
        {"row": [0, 1, 2, 3, 4], "key_a": [7, 7, 7, 5, 8], "key_b": [30, 40, 10, 2, 1]},
        schema={"row": pl.UInt32, "key_a": pl.UInt64, "key_b": pl.UInt64},
    )
    assert sorted(_repeated(run, new).to_list()) == [0, 2]
