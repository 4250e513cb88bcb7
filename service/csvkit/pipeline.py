"""``process_csv``: one file in, a cleaned CSV, a profile CSV and a summary out.

Order of work, cheapest rejection first: size limit → binary signatures → one encoding scan
of the whole file (NUL bytes, encoding) → dialect from the decoded head → the streaming
clean-and-profile pass. Outputs are committed only at the very end (:mod:`.outputs`).

Synchronous and thread-safe: no shared mutable state (the csv module's global field limit is
only ever raised, under a lock). Callers on an event loop run it with ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import EmptyFileError, MalformedCsvError

from . import texts
from .clean import CleaningPass
from .dialect import Dialect, sniff_dialect
from .encoding import detect_encoding
from .filetype import check_signature, check_text_sample
from .limits import CsvLimits, file_too_large
from .outputs import PendingOutputs, output_stem
from .reader import RecordReader, ensure_parser_field_limit
from .report import write_profile_csv
from .summary import summary_text

# Long enough for every signature in filetype.py.
HEAD_BYTES = 64
# The dialect is judged on this much decoded text: hundreds of rows of typical files, and a
# full header row of a 10,000-column file.
SAMPLE_CHARS = 256 * 1024
# More than half the rows malformed means the table was not understood. Below 20 rows a few
# ragged rows are a majority by chance, and padding them is harmless (the summary lists them).
MALFORMED_GATE_SHARE = 0.5
MALFORMED_GATE_MIN_ROWS = 20
# At most four progress calls per second.
PROGRESS_INTERVAL_SECONDS = 0.25

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class CsvResult:
    cleaned_path: Path
    profile_path: Path
    summary_text: str
    profile: dict[str, Any]  # JSON-able: str keys, str/int/float/bool/None/list/dict values
    rows_in: int  # data rows read (header excluded), duplicates and malformed rows included
    rows_out: int  # data rows in the cleaned file
    columns: int
    duplicates_removed: int
    malformed_rows: int
    bytes_in: int
    bytes_out: int  # size of the cleaned file
    encoding: str  # Python codec name the input was read with, e.g. "utf-8-sig", "cp1251"
    delimiter: str | None  # None: a one-column file
    has_header: bool


def process_csv(
    input_path: Path,
    out_dir: Path,
    limits: CsvLimits,
    progress: ProgressCallback | None = None,
) -> CsvResult:
    """Profile and clean ``input_path`` into ``out_dir``; raise a typed InputError if unusable."""
    bytes_in = input_path.stat().st_size
    if bytes_in > limits.max_bytes:
        raise file_too_large(bytes_in, limits.max_bytes)
    if bytes_in == 0:
        raise EmptyFileError("0 bytes", user_message=texts.EMPTY_BYTES)
    with input_path.open("rb") as stream:
        check_signature(stream.read(HEAD_BYTES))
    codec = detect_encoding(input_path).codec
    sample, complete = _read_text_head(input_path, codec)
    if not sample.strip():
        raise EmptyFileError("only whitespace", user_message=texts.NO_TEXT)
    check_text_sample(sample)
    ensure_parser_field_limit(limits.max_field_chars)
    dialect = sniff_dialect(
        sample,
        complete=complete,
        max_columns=limits.max_columns,
        max_field_chars=limits.max_field_chars,
    )
    if dialect.columns == 0:
        raise EmptyFileError("no records")

    outputs = PendingOutputs(out_dir)
    try:
        result = _clean_and_profile(
            input_path,
            outputs=outputs,
            limits=limits,
            dialect=dialect,
            codec=codec,
            bytes_in=bytes_in,
            expected_rows=_estimate_rows(sample, codec, bytes_in),
            progress=progress,
        )
        outputs.commit()
    except BaseException:
        outputs.discard()
        raise
    if progress is not None:
        progress(1.0)
    return result


def _clean_and_profile(
    input_path: Path,
    *,
    outputs: PendingOutputs,
    limits: CsvLimits,
    dialect: Dialect,
    codec: str,
    bytes_in: int,
    expected_rows: int,
    progress: ProgressCallback | None,
) -> CsvResult:
    stem = output_stem(input_path)
    cleaned_path, cleaned_stream = outputs.open_csv(f"{stem}_cleaned.csv")
    profile_path, profile_stream = outputs.open_csv(f"{stem}_profile.csv")
    cleaning = CleaningPass(
        columns=dialect.columns,
        delimiter=dialect.delimiter,
        has_header=dialect.has_header,
        decimal_comma=dialect.delimiter not in (",", None),
        max_rows=limits.max_rows,
        expected_rows=expected_rows,
    )
    with RecordReader(
        input_path,
        codec=codec,
        delimiter=dialect.read_delimiter,
        columns=dialect.columns,
        max_field_chars=limits.max_field_chars,
        max_columns=limits.max_columns,
    ) as reader:
        ticker = _ProgressTicker(progress, lambda: reader.bytes_read() / bytes_in)
        cleaning.run(reader, cleaned_stream, ticker.tick)
    _reject_if_unusable(cleaning)

    malformed = cleaning.shaper.malformed
    profile: dict[str, Any] = {
        "rows_in": cleaning.rows_in,
        "rows_out": cleaning.rows_out,
        "columns": dialect.columns,
        "has_header": dialect.has_header,
        "encoding": codec,
        "delimiter": dialect.delimiter,
        "duplicates_removed": cleaning.duplicates,
        "empty_rows_removed": cleaning.shaper.empty_rows,
        "formula_cells_neutralised": cleaning.formula_cells,
        "malformed": malformed.as_dict(),
        "column_profiles": cleaning.profile.as_dicts(),
    }
    write_profile_csv(profile_stream, profile["column_profiles"])
    cleaned_stream.flush()
    bytes_out = os.fstat(cleaned_stream.fileno()).st_size
    return CsvResult(
        cleaned_path=cleaned_path,
        profile_path=profile_path,
        summary_text=summary_text(profile),
        profile=profile,
        rows_in=cleaning.rows_in,
        rows_out=cleaning.rows_out,
        columns=dialect.columns,
        duplicates_removed=cleaning.duplicates,
        malformed_rows=malformed.rows,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        encoding=codec,
        delimiter=dialect.delimiter,
        has_header=dialect.has_header,
    )


def _reject_if_unusable(cleaning: CleaningPass) -> None:
    """No data rows, or mostly malformed ones (then the dialect was misread or the file is not
    a table, and a padded "cleaned" file would mislead): the job fails."""
    if not cleaning.rows_out:
        if cleaning.header is not None:
            raise EmptyFileError(
                "header only",
                user_message=texts.HEADER_ONLY,
            )
        raise EmptyFileError("no data rows")
    malformed = cleaning.shaper.malformed
    if (
        cleaning.rows_in >= MALFORMED_GATE_MIN_ROWS
        and malformed.rows > MALFORMED_GATE_SHARE * cleaning.rows_in
    ):
        lines = ", ".join(f"{line:,}" for line in malformed.first_lines)
        raise MalformedCsvError(
            f"{malformed.rows} of {cleaning.rows_in} rows malformed",
            user_message=texts.MALFORMED.format(
                rows=f"{malformed.rows:,}",
                total=f"{cleaning.rows_in:,}",
                columns=f"{cleaning.columns:,}",
                lines=lines,
            ),
        )


def _read_text_head(path: Path, codec: str) -> tuple[str, bool]:
    with path.open("r", encoding=codec, newline="") as stream:
        sample = stream.read(SAMPLE_CHARS)
        return sample, stream.read(1) == ""


def _estimate_rows(sample: str, codec: str, bytes_in: int) -> int:
    """Rows the file probably holds: sizes the dedupe table up front instead of by doubling."""
    bytes_per_line = len(sample.encode(codec)) / (sample.count("\n") or 1)
    return int(bytes_in / max(bytes_per_line, 1.0))


class _ProgressTicker:
    """Calls ``progress`` with the fraction read, at most every PROGRESS_INTERVAL_SECONDS."""

    def __init__(self, progress: ProgressCallback | None, fraction: Callable[[], float]) -> None:
        self._progress = progress
        self._fraction = fraction
        self._last = time.monotonic()

    def tick(self) -> None:
        if self._progress is None:
            return
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL_SECONDS:
            self._last = now
            # Below 1.0 until the outputs are committed: 1.0 means "done".
            self._progress(min(max(self._fraction(), 0.0), 0.99))
