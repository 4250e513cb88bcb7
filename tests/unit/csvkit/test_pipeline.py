"""process_csv as the worker sees it: outputs, result fields, progress, threads, cleanup."""

from __future__ import annotations

import errno
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from service.csvkit import CsvLimits, process_csv
from service.csvkit import clean as clean_module
from service.csvkit import pipeline as pipeline_module

from . import fixtures
from .fixtures import write_text


def test_success_leaves_exactly_the_cleaned_and_profile_files(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "sales 2024 (v2).csv", "a,b\n1,2\n")

    result = process_csv(path, out_dir, CsvLimits())

    assert sorted(p.name for p in out_dir.iterdir()) == [
        "sales_2024_v2_cleaned.csv",
        "sales_2024_v2_profile.csv",
    ]
    assert (result.cleaned_path.parent, result.profile_path.parent) == (out_dir, out_dir)


def test_result_fields_describe_the_run(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "t.csv", "a;b\n1;x\n1;x\n2;y\n3\n")

    result = process_csv(path, out_dir, CsvLimits())

    assert (result.rows_in, result.rows_out, result.columns) == (4, 3, 2)
    assert (result.duplicates_removed, result.malformed_rows) == (1, 1)
    assert (result.encoding, result.delimiter, result.has_header) == ("utf-8", ";", True)
    assert result.bytes_in == path.stat().st_size
    assert result.bytes_out == result.cleaned_path.stat().st_size


def test_progress_rises_within_zero_and_one_and_ends_at_one(
    in_dir: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "PROGRESS_INTERVAL_SECONDS", 0.0)
    path = fixtures.generated_table(in_dir, 3 * 1024 * 1024)
    seen: list[float] = []

    process_csv(path, out_dir, CsvLimits(), progress=seen.append)

    assert len(seen) >= 3
    assert seen == sorted(seen)
    assert all(0.0 <= value < 1.0 for value in seen[:-1])
    assert seen[-1] == 1.0


def test_failure_mid_stream_leaves_no_output_files(
    in_dir: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything raised while outputs are half-written (here by the callback) cleans them up."""
    monkeypatch.setattr(pipeline_module, "PROGRESS_INTERVAL_SECONDS", 0.0)
    path = fixtures.generated_table(in_dir, 3 * 1024 * 1024)

    def explode(fraction: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        process_csv(path, out_dir, CsvLimits(), progress=explode)
    assert list(out_dir.iterdir()) == []
    assert _stage_threads() == []  # the pass's reading, profiling and writing threads stopped


# Writes: the header, then one per batch: 2 for the 200-byte file, 5 for the 3 MB one.
@pytest.mark.parametrize(
    ("file_bytes", "failing_write"),
    [(200, 1), (200, 2), (3 * 1024 * 1024, 3), (3 * 1024 * 1024, 5)],
    ids=["header", "only-batch", "mid-file-batch", "last-batch"],
)
def test_a_failed_write_on_the_writers_thread_reaches_the_caller(
    in_dir: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch, file_bytes: int, failing_write: int
) -> None:
    """The write runs behind, on a thread of its own: its error still ends the run, whichever
    write fails (the header, a batch mid-file, the last one), and nothing is left behind."""
    path = fixtures.generated_table(in_dir, file_bytes)
    writes = 0
    write_text = clean_module.CleaningPass._write_text

    def full_disk(self: clean_module.CleaningPass, text: str) -> None:
        nonlocal writes
        writes += 1
        if writes >= failing_write:
            raise OSError(errno.ENOSPC, "No space left on device")
        write_text(self, text)

    monkeypatch.setattr(clean_module.CleaningPass, "_write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        process_csv(path, out_dir, CsvLimits())
    assert writes == failing_write  # that write was reached, and none was tried after it
    assert list(out_dir.iterdir()) == []
    assert _stage_threads() == []


def test_a_finished_run_leaves_none_of_its_threads(in_dir: Path, out_dir: Path) -> None:
    process_csv(fixtures.generated_table(in_dir, 3 * 1024 * 1024), out_dir, CsvLimits())
    assert _stage_threads() == []


def _stage_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("csv-")]


def test_concurrent_runs_in_threads_match_sequential_runs(in_dir: Path, tmp_path: Path) -> None:
    """Thread safety: four different files at once give byte-identical outputs."""
    inputs = [
        fixtures.write_csv(in_dir / f"t{i}.csv", table, encoding=codec, delimiter=delimiter)
        for i, (codec, table, delimiter) in enumerate(
            [
                ("utf-8", fixtures.TABLES["utf-8"] * 200, ","),
                ("cp1251", fixtures.TABLES["cp1251"] * 200, ";"),
                ("cp1252", fixtures.TABLES["cp1252"] * 200, "\t"),
                ("utf-8", fixtures.TABLES["utf-8"] * 300, "|"),
            ]
        )
    ]
    inputs.append(fixtures.huge_field_file(in_dir, chars=200_000))  # raises the parser limit

    def run(index: int, path: Path, mode: str) -> bytes:
        out = tmp_path / f"{mode}{index}"
        out.mkdir()
        try:
            result = process_csv(path, out, CsvLimits(max_field_chars=250_000 if index == 4 else 100_000))
        except Exception as exc:  # compare failures too
            return repr(exc).encode()
        return result.cleaned_path.read_bytes() + result.profile_path.read_bytes()

    sequential = [run(i, path, "seq") for i, path in enumerate(inputs)]
    with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
        concurrent = list(pool.map(lambda item: run(item[0], item[1], "par"), enumerate(inputs)))
    assert concurrent == sequential


@pytest.mark.parametrize("field", ["max_bytes", "max_rows", "max_columns", "max_field_chars"])
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CsvLimits(**{field: 0})
