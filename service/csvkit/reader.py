"""Stream records from a decoded CSV file, with line numbers, surviving broken quoting.

The reader is the standard library's C parser in *strict* mode, so broken quoting is reported
instead of silently glued together; each line handed to it passes through a tap that keeps the
lines of the current record, so a record the strict parser rejects can be re-read:

* a quote that was never closed (it reaches the end of the file, or the lines it swallowed
  parse as rows of the table): its line is re-read with the quote taken literally and parsing
  resumes on the next line, so one stray quote costs one flagged row
  (:attr:`Problem.UNCLOSED_QUOTE`) instead of the rest of the file;
* any other quoting slip (``"ab"c``): the record is re-read leniently, kept, and flagged
  :attr:`Problem.QUOTING`.

Memory: one record's lines at a time. Once a record's lines pass ``max_field_chars``
characters the tap checks, once, whether they are swallowed rows; a single field is bounded by
the parser's field-size limit (raised, never lowered, to cover ``max_field_chars``). Outcomes do
not depend on that process-wide limit: our own bound decides swallowed rows, and any field
over ``max_field_chars`` is an error either way.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import IO

from .dialect import make_reader
from .limits import field_too_long

_field_limit_lock = threading.Lock()
# Swallowed rows: this share of the lines after the quote's own split into exactly the table's
# column count. Text inside a real quoted value almost never has that regularity; rows
# swallowed by a stray quote nearly always do.
_SWALLOWED_SHARE = 0.8
# An over-long record needs more evidence than a short one before it is re-read line by line.
_SWALLOWED_MIN_LINES_LONG = 3


def ensure_parser_field_limit(max_field_chars: int) -> None:
    """Make the csv module's process-wide field limit at least ``max_field_chars + 1``.

    The limit is global to the interpreter, and other jobs may run concurrently, so it is only
    ever raised, under a lock; our own per-cell check enforces each job's exact limit. With the
    default limit (100,000) nothing changes: the module default is 131,072.
    """
    with _field_limit_lock:
        if csv.field_size_limit() <= max_field_chars:
            csv.field_size_limit(max_field_chars + 1)


class Problem(StrEnum):
    QUOTING = "quoting"
    UNCLOSED_QUOTE = "unclosed_quote"


@dataclass(frozen=True, slots=True)
class Record:
    line: int  # physical line where the record starts, 1-based
    cells: list[str]
    problem: Problem | None = None


class _SwallowedRows(Exception):
    """A signal raised through the parser: the record's lines are rows of the table."""


def _look_like_rows(lines: list[str], delimiter: str, columns: int, *, at_least: int = 1) -> bool:
    if columns < 2 or len(lines) < at_least:
        return False
    regular = sum(1 for line in lines if len(next(make_reader([line], delimiter), [])) == columns)
    return regular >= _SWALLOWED_SHARE * len(lines)


class _LineTap:
    """Feeds lines to the parser, keeps the current record's, and spots swallowed rows."""

    __slots__ = (
        "_checked",
        "_columns",
        "_delimiter",
        "_lines",
        "_max_chars",
        "chars",
        "exhausted",
        "lines_served",
        "pending",
    )

    def __init__(self, lines: Iterator[str], *, delimiter: str, columns: int, max_chars: int):
        self._lines = lines
        self._delimiter = delimiter
        self._columns = columns
        self._max_chars = max_chars
        self.pending: list[str] = []
        self.chars = 0
        self._checked = False
        self.lines_served = 0
        self.exhausted = False

    def start_record(self) -> None:
        # The parser never reads ahead, so from here on `pending` is exactly this record's lines.
        self.pending.clear()
        self.chars = 0
        self._checked = False

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise
        self.pending.append(line)
        self.lines_served += 1
        self.chars += len(line)
        if self.chars > self._max_chars and not self._checked:
            self._checked = True  # once per record: keeps the check linear in the record size
            body = self.pending[1:]
            if _look_like_rows(body, self._delimiter, self._columns, at_least=_SWALLOWED_MIN_LINES_LONG):
                raise _SwallowedRows
        return line


def _is_field_limit_error(exc: csv.Error) -> bool:
    # The C parser signals every problem with csv.Error; only the message tells the field-size
    # bound apart from quoting errors.
    return str(exc).startswith("field larger than field limit")


class RecordReader:
    """Records of one text file; iterate it, read :meth:`bytes_read` for progress."""

    def __init__(self, path: Path, *, codec: str, delimiter: str, columns: int, max_field_chars: int) -> None:
        ensure_parser_field_limit(max_field_chars)
        self._stream: IO[str] = path.open("r", encoding=codec, newline="", errors="strict")
        self._delimiter = delimiter
        self._columns = columns
        self._max_field_chars = max_field_chars

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> RecordReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def bytes_read(self) -> int:
        """Bytes consumed from the file so far (read-ahead included: good enough for progress)."""
        return int(self._stream.buffer.tell())  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[Record]:
        lines: Iterator[str] = iter(self._stream)
        first_line = 1
        while True:
            resume = yield from self._read(lines, first_line)
            if resume is None:
                return
            lines, first_line = resume

    def _read(
        self, lines: Iterator[str], first_line: int
    ) -> Generator[Record, None, tuple[Iterator[str], int] | None]:
        """Records until the end, or until an unclosed quote: then where to resume reading.

        ``lines`` is shared with the tap, so after an unclosed quote it continues right after
        the lines the parser already consumed.
        """
        tap = _LineTap(
            lines,
            delimiter=self._delimiter,
            columns=self._columns,
            max_chars=self._max_field_chars,
        )
        reader = make_reader(tap, self._delimiter, strict=True)
        while True:
            line = first_line + tap.lines_served
            tap.start_record()
            try:
                cells = next(reader)
            except StopIteration:
                return None
            except (csv.Error, _SwallowedRows) as exc:
                pending = list(tap.pending)
                if isinstance(exc, csv.Error) and _is_field_limit_error(exc):
                    raise field_too_long(line, self._max_field_chars) from exc
                if (
                    isinstance(exc, _SwallowedRows)
                    or tap.exhausted
                    or _look_like_rows(pending[1:-1], self._delimiter, self._columns)
                ):
                    # The quote opened on the first line was never meant to span lines: it hit
                    # the end of the file, or the lines it swallowed are rows. Take it as a
                    # literal character and parse everything after that line afresh.
                    cells = next(make_reader(pending[:1], self._delimiter, literal_quotes=True))
                    yield self._checked(Record(line, cells, Problem.UNCLOSED_QUOTE))
                    return chain(pending[1:], lines), line + 1
                # A quoting slip within the record (`"ab"c`): keep what a lenient parse makes.
                for cells in make_reader(pending, self._delimiter, strict=False):
                    if cells:
                        yield self._checked(Record(line, cells, Problem.QUOTING))
                continue
            if cells:  # a blank line is not a record
                yield self._checked(Record(line, cells))

    def _checked(self, record: Record) -> Record:
        longest = max(map(len, record.cells), default=0)
        if longest > self._max_field_chars:
            raise field_too_long(record.line, self._max_field_chars, longest)
        return record
