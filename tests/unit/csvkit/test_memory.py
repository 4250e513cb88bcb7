"""Peak memory is bounded by csvkit's structures, not by the file: a bound check, not a timing."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from service.csvkit import CsvLimits, process_csv
from service.errors import TooManyColumnsError

from . import fixtures

FILE_BYTES = 20 * 1024 * 1024
# Below the file's own size: holding the file (let alone its rows as Python strings and lists)
# cannot fit. What the pass does hold for this file (~50k rows of ~420 bytes): one batch of at
# most 1M characters, the dedupe table (2^17 slots x 16 B = 2 MB), exact distinct sets capped
# at 4M characters in all, and I/O buffers: ~9 MiB measured.
PEAK_BOUND_BYTES = 16 * 1024 * 1024


def test_peak_python_memory_for_a_20_mb_file_stays_below_its_size(in_dir: Path, out_dir: Path) -> None:
    path = fixtures.generated_table(in_dir, FILE_BYTES, note_words=50)
    tracemalloc.start()
    try:
        result = process_csv(path, out_dir, CsvLimits(max_bytes=2 * FILE_BYTES))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.rows_out > 45_000  # the whole file really went through
    assert result.bytes_out > FILE_BYTES * 0.9
    assert peak < PEAK_BOUND_BYTES, f"peak {peak / 2**20:.1f} MiB"


# A 1.9 MB line of 400,000 short numbers: parsed into cells it is ~25 MiB of Python strings.
WIDE_ROW_CELLS = 400_000
# The line itself (UTF-8 in the reader's buffer, then one str) plus a few reader blocks.
WIDE_ROW_PEAK_BOUND_BYTES = 8 * 1024 * 1024


def test_a_wide_late_row_is_rejected_without_building_its_cells(in_dir: Path, out_dir: Path) -> None:
    body = "".join(f"{i},name{i},{i * 2}\n" for i in range(600))
    wide = ",".join(str(i % 1000) for i in range(WIDE_ROW_CELLS))
    path = fixtures.write_text(in_dir / "wide_late.csv", f"id,name,value\n{body}{wide}\n")
    tracemalloc.start()
    try:
        with pytest.raises(TooManyColumnsError):
            process_csv(path, out_dir, CsvLimits())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < WIDE_ROW_PEAK_BOUND_BYTES, f"peak {peak / 2**20:.1f} MiB"
