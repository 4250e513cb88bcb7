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

Memory: one record's lines at a time, and never an over-wide record: before the parser sees
a line with more delimiters than ``max_columns``, its fields are counted quote-aware without
building them, and a record with more than ``max_columns`` fields is an error
(:func:`.limits.record_too_wide`): one row of six million empty cells would otherwise cost
half a gigabyte of Python strings. Past that, once a record's lines pass ``max_field_chars``
characters the tap checks, once, whether they are swallowed rows; a single field is bounded by
the parser's field-size limit (raised, never lowered, to cover ``max_field_chars``). Outcomes do
not depend on that process-wide limit: our own bound decides swallowed rows, and any field
over ``max_field_chars`` is an error either way.
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

from .dialect import make_reader
from .limits import field_too_long, record_too_wide

_field_limit_lock = threading.Lock()
# Swallowed rows: this share of the lines after the quote's own split into exactly the table's
# column count. Text inside a real quoted value almost never has that regularity; rows
# swallowed by a stray quote nearly always do.
_SWALLOWED_SHARE = 0.8
# An over-long record needs more evidence than a short one before it is re-read line by line.
_SWALLOWED_MIN_LINES_LONG = 3
# One line as a text stream with newline="" splits them: up to LF, CRLF or a lone CR. (A
# StringIO would split alike but holds 4 bytes a character: 8 MB for a 2 MB wide row.)
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


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


def _field_pattern(delimiter: str) -> re.Pattern[str]:
    """One field as the parser reads it: spaces skipped, an optional quoted part (to the end of
    the text if never closed), then anything up to the next delimiter."""
    d = re.escape(delimiter)
    return re.compile(rf' *(?:"(?:[^"]|"")*(?:"|\Z))?[^{d}]*')


def count_fields(text: str, delimiter: str, *, cap: int) -> int:
    """Fields of ``text`` read as one record, quote-aware, counted up to ``cap`` without
    building any of them."""
    pattern = _field_pattern(delimiter)
    count, position, end = 1, 0, len(text)
    while count < cap:
        position = pattern.match(text, position).end()  # type: ignore[union-attr]  # matches ""
        if position >= end:
            break
        count += 1
        position += 1  # the delimiter
    return count


def _line_fields(line: str, delimiter: str, *, cap: int) -> int:
    """Fields of one line read alone, without building them when there could be many."""
    if line.count(delimiter) < cap:
        return len(next(make_reader([line], delimiter), []))
    return count_fields(line.rstrip("\r\n"), delimiter, cap=cap)


def _look_like_rows(lines: list[str], delimiter: str, columns: int, *, at_least: int = 1) -> bool:
    if columns < 2 or len(lines) < at_least:
        return False
    regular = sum(1 for line in lines if _line_fields(line, delimiter, cap=columns + 1) == columns)
    return regular >= _SWALLOWED_SHARE * len(lines)


class LineSource:
    """The lines of a text stream, with lines pushed back in front; counts every line served.

    Shared by the record reader and the fast paths (:mod:`.plainread`, :mod:`.fastpath`), so
    each can resume exactly where another stopped.
    """

    __slots__ = ("_carry", "_pushed", "_stream", "next_line")

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pushed: list[str] = []  # in reverse order: the next line is the last item
        self._carry = ""  # the start of the next line, read ahead by read_text
        self.next_line = 1  # number of the line the next call hands out

    def __iter__(self) -> LineSource:
        return self

    def __next__(self) -> str:
        if self._pushed:
            line = self._pushed.pop()
        elif self._carry:
            line, self._carry = self._carry + self._stream.readline(), ""
        else:
            line = next(self._stream)
        self.next_line += 1
        return line

    def push_back(self, lines: list[str]) -> None:
        self._pushed.extend(reversed(lines))
        self.next_line -= len(lines)

    @property
    def has_pushed_lines(self) -> bool:
        return bool(self._pushed)

    @property
    def pushed_lines(self) -> int:
        return len(self._pushed)

    def read_text(self, hint: int) -> str:
        """Whole lines of at most about ``hint`` characters as one string, not yet counted:
        the caller either counts them (:meth:`advance`) or hands them back (:meth:`unread_text`).

        Call only when no lines are pushed back. Returns "" at the end of the file, and also
        when the next line alone is longer than ``hint``: then that line is pushed back
        instead, for :meth:`read_block`, so that no text past ``hint`` is ever copied.
        """
        assert not self._pushed, "pushed-back lines come first: read them with read_block"
        chunk = self._stream.read(hint)
        text, self._carry = self._carry + chunk, ""
        if len(chunk) < hint:  # the end of the file: the text is whole lines
            return text
        while text.endswith("\r"):  # a CR and an LF after it are one line end
            more = self._stream.read(1)
            if not more:
                break
            text += more
        # The last line end, a CR counting only when the text goes on after it (one at the very
        # end ends the file, and is carried to the next call, which returns it).
        cut = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1)) + 1
        if not cut:
            self._pushed.append(text + self._stream.readline())  # not yet counted, like text
            return ""
        self._carry = text[cut:]
        return text[:cut]

    def advance(self, lines: int) -> None:
        """Count ``lines`` lines of a :meth:`read_text` block as served."""
        self.next_line += lines

    def unread_text(self, text: str) -> None:
        """Push a :meth:`read_text` block back, split into lines exactly as the stream splits."""
        lines = _LINE.findall(text)
        self.next_line += len(lines)
        self.push_back(lines)

    def read_block(self, hint: int) -> list[str]:
        """Whole lines of about ``hint`` characters (pushed-back lines first, alone)."""
        if self._pushed:
            # Pushed-back lines may be a whole declined polars block: served ``hint`` at a time,
            # so that one bad line sends only its own stretch to the record reader.
            pushed, chars = self._pushed, 0
            count = 0
            while count < len(pushed) and chars < hint:
                count += 1
                chars += len(pushed[-count])
            lines = pushed[: -count - 1 : -1]
            del pushed[-count:]
        elif self._carry:
            lines = [next(self), *self._stream.readlines(hint)]
            self.next_line -= 1  # counted below, with the others
        else:
            lines = self._stream.readlines(hint)
        self.next_line += len(lines)
        return lines


class _LineTap:
    """Feeds lines to the parser, keeps the current record's, and spots swallowed rows."""

    __slots__ = (
        "_checked",
        "_columns",
        "_delimiter",
        "_lines",
        "_max_chars",
        "_max_fields",
        "_unchecked_delimiters",
        "chars",
        "exhausted",
        "fields",
        "pending",
        "start_line",
    )

    def __init__(self, lines: LineSource, *, delimiter: str, columns: int, max_chars: int, max_fields: int):
        self._lines = lines
        self._delimiter = delimiter
        self._columns = columns
        self._max_chars = max_chars
        self._max_fields = max_fields
        self.pending: list[str] = []
        self.chars = 0
        self._checked = False
        self.exhausted = False
        self.fields = 1  # fields of the current record known to exist, counted quote-aware
        self._unchecked_delimiters = 0
        self.start_line = lines.next_line

    def start_record(self) -> None:
        # The parser never reads ahead, so from here on `pending` is exactly this record's lines.
        self.pending.clear()
        self.chars = 0
        self._checked = False
        self.fields = 1
        self._unchecked_delimiters = 0
        self.start_line = self._lines.next_line

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise
        self.pending.append(line)
        self.chars += len(line)
        # Each delimiter adds at most one field, so the exact (quote-aware) count is needed
        # only once the known count plus the delimiters since could pass the limit.
        self._unchecked_delimiters += line.count(self._delimiter)
        if self.fields + self._unchecked_delimiters > self._max_fields:
            self.fields = count_fields("".join(self.pending), self._delimiter, cap=self._max_fields + 1)
            self._unchecked_delimiters = 0
            if self.fields > self._max_fields:
                raise record_too_wide(self.start_line, self._max_fields)
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
    """Records of one text file; iterate it, read :meth:`bytes_read` for progress.

    :meth:`records` reads from :attr:`lines` at any point, so a caller may take lines itself
    between calls (the fast path does) as long as it leaves them at a record boundary.
    """

    def __init__(
        self,
        path: Path,
        *,
        codec: str,
        delimiter: str,
        columns: int,
        max_field_chars: int,
        max_columns: int,
    ) -> None:
        ensure_parser_field_limit(max_field_chars)
        self._stream: IO[str] = path.open("r", encoding=codec, newline="", errors="strict")
        self.lines = LineSource(self._stream)
        self.delimiter = delimiter
        self._columns = columns
        self.max_field_chars = max_field_chars
        self.max_columns = max_columns
        # False while the records of one lenient re-read are being handed out.
        self.at_boundary = True

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
        return self.records()

    def records(self) -> Iterator[Record]:
        """Records from the current position of :attr:`lines` to the end of the file.

        After an unclosed quote the lines it swallowed are pushed back and read afresh, so
        the caller may stop after a record when :attr:`at_boundary` is true and
        :attr:`LineSource.pushed_lines` is back to what it was before the records' lines were
        pushed back.
        """
        while True:
            resumed = yield from self._read()
            if not resumed:
                return

    def _read(self) -> Generator[Record, None, bool]:
        """Records until the end (then False), or until an unclosed quote (then True)."""
        lines = self.lines
        tap = _LineTap(
            lines,
            delimiter=self.delimiter,
            columns=self._columns,
            max_chars=self.max_field_chars,
            max_fields=self.max_columns,
        )
        reader = make_reader(tap, self.delimiter, strict=True)
        while True:
            tap.start_record()
            line = tap.start_line
            try:
                cells = next(reader)
            except StopIteration:
                return False
            except (csv.Error, _SwallowedRows) as exc:
                pending = list(tap.pending)
                if isinstance(exc, csv.Error) and _is_field_limit_error(exc):
                    raise field_too_long(line, self.max_field_chars) from exc
                if (
                    isinstance(exc, _SwallowedRows)
                    or tap.exhausted
                    or _look_like_rows(pending[1:-1], self.delimiter, self._columns)
                ):
                    # The quote opened on the first line was never meant to span lines: it hit
                    # the end of the file, or the lines it swallowed are rows. Take it as a
                    # literal character and parse everything after that line afresh.
                    if pending[0].count(self.delimiter) >= self.max_columns:
                        raise record_too_wide(line, self.max_columns) from exc
                    cells = next(make_reader(pending[:1], self.delimiter, literal_quotes=True))
                    # Pushed back before the record is handed out: a caller that stops after
                    # it sees that these lines are still to be read.
                    lines.push_back(pending[1:])
                    yield self._checked(Record(line, cells, Problem.UNCLOSED_QUOTE))
                    return True
                # A quoting slip within the record (`"ab"c`): keep what a lenient parse makes.
                # The tap has counted its fields; a lenient parse splits the same text at the
                # same delimiters. Its records all come from lines already read, so a caller
                # may not stop between them.
                recovered = [cells for cells in make_reader(pending, self.delimiter, strict=False) if cells]
                for index, cells in enumerate(recovered, start=1):
                    self.at_boundary = index == len(recovered)
                    yield self._checked(Record(line, cells, Problem.QUOTING))
                continue
            if cells:  # a blank line is not a record
                yield self._checked(Record(line, cells))

    def _checked(self, record: Record) -> Record:
        longest = max(map(len, record.cells), default=0)
        if longest > self.max_field_chars:
            raise field_too_long(record.line, self.max_field_chars, longest)
        return record
