"""The streaming pass: records in, cleaned rows out, profile and counts updated on the way.

Rows reach the pass three ways, in file order: blocks proven plain are read by polars' CSV
reader (:mod:`.plainread`); a block it declines is tried by the csv module in one call
(:mod:`.fastpath`), and what that declines too is read record by record (:mod:`.reader`) and
fixed to the table's width (:mod:`.shape`). Every way gives the same rows, as polars columns,
gathered into chunks, and a chunk goes through:

1. trimming and dropping rows left empty (in polars, with exactly ``str.strip``'s whitespace);
2. duplicate removal (:mod:`.dedupe`): 128-bit row keys for the whole chunk in one call;
3. batching: kept rows are cut into batches of at most :data:`BATCH_CELLS` cells or
   :data:`BATCH_CHARS` characters, at exactly the rows where a row-at-a-time pass would cut;
4. per batch, column by column: profiling (:mod:`.profile`), formula neutralisation
   (:mod:`.sanitize`), then one CSV write of the whole batch.

The stages overlap on threads (:mod:`.overlap`), as a pipeline in file order: reading, parsing
and step 1 on one thread, a few blocks ahead; steps 2 and 3 on the calling thread; profiling
on a second thread, neutralisation and the write on a third, each a batch or two behind. Each
thread owns what it updates (the reader the row and empty-row counts, the profiler the profile
and the output count, the writer the formula counts), so nothing is shared but the hand-off
queues, and every count is final when :meth:`CleaningPass.run` returns.

Memory holds a few frames read ahead (:data:`READ_AHEAD_FRAMES`), one chunk, one batch being
filled and a few waiting for profiling and writing (:data:`STAGE_BATCHES` each), plus the
bounded dedupe and distinct-count structures, never the file.
"""

from __future__ import annotations

import functools
import io
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import IO

import polars as pl

from .dedupe import RowDeduper
from .fastpath import BLOCK_CHARS, parse_block
from .limits import too_many_rows
from .outputs import OUTPUT_LINE_TERMINATOR, csv_writer
from .overlap import ReadAhead, WriteBehind
from .plainread import PLAIN_BLOCK_CHARS, column_names, plain_block_lines, read_plain_block
from .profile import TableProfile
from .reader import Record, RecordReader
from .sanitize import may_need_neutralising_expr, needs_neutralising_expr, neutralise_all, neutralised_expr
from .shape import RowShaper

# A batch ends at 100k cells or 1M characters, whichever comes first: big enough that the
# per-batch Python overhead (a few calls per column) is noise, small enough to be a few MB
# whatever the shape of the rows. The cut points decide the exact-distinct budget's
# bookkeeping, so they must not move.
BATCH_CELLS = 100_000
BATCH_CHARS = 1_000_000
# A chunk (what one dedupe call sees) ends at 150k cells or 2M characters: large enough that
# a polars call's fixed cost is noise (each dedupe call also scans the table of keys seen),
# small enough that its Python strings and polars copy stay a few MB (peak RSS of a 20 MB file
# measured 116 MB at 100k cells, 126 MB at 300k, 154 MB at 600k).
CHUNK_CELLS = 150_000
CHUNK_CHARS = 2_000_000
# How far reading may run ahead (frames of up to a block each; a chunk takes about two) and
# profiling and writing lag behind (batches each): enough to keep every thread busy, few
# enough that memory stays a few MB.
READ_AHEAD_FRAMES = 2
STAGE_BATCHES = 2
#: What ``str.strip()`` strips: every character ``str.isspace`` accepts (29 of them), written
#: out because finding them scans all 1.1 million code points, 0.06 s of every process's import
#: (tests/unit/csvkit/test_columnar.py checks the set against that scan).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@dataclass(frozen=True, slots=True)
class HeaderNames:
    """The header row, named (:meth:`.RowShaper.header`): what the reader yields first."""

    names: list[str]


@dataclass(frozen=True, slots=True)
class TrimmedRows:
    """Rows as the reader hands them on: trimmed, those left empty dropped."""

    frame: pl.DataFrame  # one String column per table column, named like the pass's columns
    lengths: pl.Series  # per row: the characters of its cells
    read: int  # rows read, the dropped ones included
    chars: int  # characters read


class CleaningPass:
    """Consumes the records of one file; read the public attributes afterwards."""

    def __init__(
        self,
        *,
        columns: int,
        delimiter: str | None,
        has_header: bool,
        decimal_comma: bool,
        max_rows: int,
        expected_rows: int = 0,  # unused since the dedupe table grows by chunks
    ) -> None:
        self.columns = columns
        self.shaper = RowShaper(columns)
        self.header: list[str] | None = None
        self.rows_in = 0
        self.rows_out = 0
        self.duplicates = 0
        self.formula_cells = 0
        self._expects_header = has_header
        self._decimal_comma = decimal_comma
        self._max_rows = max_rows
        self._deduper = RowDeduper()
        self._batch_rows = max(16, BATCH_CELLS // columns)
        self._chunk_rows = max(16, CHUNK_CELLS // columns)
        self._names = column_names(columns)
        self._delimiter = delimiter
        self.profile = TableProfile(
            [f"column_{index}" for index in range(1, columns + 1)], decimal_comma=decimal_comma
        )
        self._chunk: list[TrimmedRows] = []
        self._chunk_count = 0
        self._chunk_chars = 0
        self._batch: list[pl.DataFrame] = []
        self._batch_count = 0
        self._batch_chars = 0
        self._output: IO[str] | None = None
        # run()'s stages: profiling and writing, each on a thread of its own.
        self._profiler: WriteBehind | None = None
        self._writer: WriteBehind | None = None
        self._on_batch: Callable[[], None] = lambda: None

    def run(self, reader: RecordReader, output: IO[str], on_batch: Callable[[], None]) -> None:
        """Read every record, write the cleaned CSV to ``output``; ``on_batch`` after each batch.

        Reading, parsing and trimming run ahead on one thread; profiling behind on a second,
        neutralising and writing behind that on a third (:mod:`.overlap`); dedupe and
        batching stay on the calling thread.
        """
        self._output = output
        self._on_batch = on_batch
        # Left in reverse order: reading stops first, then profiling, which may still hand a
        # batch to the writer, then writing.
        with (
            WriteBehind(depth=STAGE_BATCHES, name="csv-write") as writer,
            WriteBehind(depth=STAGE_BATCHES, name="csv-profile") as profiler,
            ReadAhead(self._read(reader), depth=READ_AHEAD_FRAMES, name="csv-read") as frames,
        ):
            self._profiler, self._writer = profiler, writer
            for item in frames:
                if isinstance(item, HeaderNames):
                    profiler.submit(functools.partial(self._take_header, item.names))
                else:
                    self._add_to_chunk(item)
            self._end_chunk()
            self._flush_batch()
            profiler.finish()
            writer.finish()

    # -- reading, on the reader's thread -------------------------------------------------------

    def _read(self, reader: RecordReader) -> Iterator[HeaderNames | TrimmedRows]:
        """The header's names, then the rows, trimmed, in file order."""
        lines = reader.lines
        while True:
            if not self._expects_header and not lines.has_pushed_lines:
                # The header, and lines the record reader handed back, take the paths below.
                text = lines.read_text(PLAIN_BLOCK_CHARS)
                if not text:
                    if lines.has_pushed_lines:
                        continue  # a line longer than a block: for the slower paths
                    break
                frame = read_plain_block(
                    text,
                    delimiter=self._delimiter,
                    columns=self.columns,
                    max_field_chars=reader.max_field_chars,
                )
                if frame is None:
                    lines.unread_text(text)
                    continue
                lines.advance(plain_block_lines(text))
                self._count_rows(frame.height)
                yield self._trimmed(frame, len(text), ascii_only=text.isascii())
                continue
            # The header alone: the lines after it are the polars path's to try.
            block = lines.read_block(1 if self._expects_header else BLOCK_CHARS)
            if not block:
                break
            plain = parse_block(
                block,
                delimiter=reader.delimiter,
                columns=self.columns,
                expects_header=self._expects_header,
                max_field_chars=reader.max_field_chars,
                max_columns=reader.max_columns,
            )
            if plain is None:
                # Re-read from the block's first line, record by record, at least to its end.
                until, rest = lines.next_line, lines.pushed_lines
                lines.push_back(block)
                yield from self._read_records(reader, until, rest)
                continue
            if plain.header is not None:
                yield self._header(plain.header)
            if plain.records:
                self._count_rows(plain.records)
                yield self._trimmed(self._frame(plain.columns), sum(map(len, block)))

    # -- records the fast path could not take -------------------------------------------------

    def _read_records(
        self, reader: RecordReader, until_line: int, pushed_after: int
    ) -> Iterator[HeaderNames | TrimmedRows]:
        """Records to the end of the block ending before ``until_line``, at least; lines
        pushed back after the block's (``pushed_after`` of them) are left for the block reads.
        """
        rows: list[list[str]] = []
        chars = 0
        lines = reader.lines
        for record in reader.records():
            if self._expects_header:
                yield self._header(record.cells)
            else:
                self._count_rows(1)
                cells = self.shaper.shape(record)
                if cells is not None:
                    rows.append(cells)
                    chars += sum(map(len, cells))
                    if len(rows) >= self._chunk_rows or chars >= CHUNK_CHARS:
                        yield self._trimmed(self._frame(list(zip(*rows, strict=True))), chars)
                        rows, chars = [], 0
            if lines.next_line >= until_line and reader.at_boundary and lines.pushed_lines <= pushed_after:
                break
        if rows:
            yield self._trimmed(self._frame(list(zip(*rows, strict=True))), chars)

    def _header(self, cells: list[str]) -> HeaderNames:
        self._expects_header = False
        return HeaderNames(self.shaper.header(Record(1, cells)))

    def _frame(self, columns: Sequence[Sequence[str]]) -> pl.DataFrame:
        return pl.DataFrame(
            [
                pl.Series(name, values=values, dtype=pl.String)
                for name, values in zip(self._names, columns, strict=True)
            ]
        )

    def _trimmed(self, frame: pl.DataFrame, chars: int, *, ascii_only: bool = False) -> TrimmedRows:
        """``frame``'s cells trimmed, rows left empty dropped (and counted); ``ascii_only``
        says the cells are ASCII, so that their lengths need no UTF-8 decoding."""
        read = frame.height
        frame = frame.select(pl.all().str.strip_chars(WHITESPACE))
        # What a row adds to a batch's character count: its cells joined by one separator.
        length = pl.all().str.len_bytes() if ascii_only else pl.all().str.len_chars()
        lengths = frame.select(pl.sum_horizontal(length).alias("chars")).to_series()
        empty = lengths == 0
        if empty.any():
            self.shaper.empty_rows += int(empty.sum())
            frame, lengths = frame.filter(~empty), lengths.filter(~empty)
        return TrimmedRows(frame, lengths, read=read, chars=chars)

    def _count_rows(self, records: int) -> None:
        self.rows_in += records
        if self.rows_in > self._max_rows:
            raise too_many_rows(self._max_rows)

    # -- on the calling thread: chunks (dedupe), then batches -----------------------------------

    def _add_to_chunk(self, rows: TrimmedRows) -> None:
        self._chunk.append(rows)
        # Cut by rows and characters read, as if nothing had been trimmed or dropped.
        self._chunk_count += rows.read
        self._chunk_chars += rows.chars
        if self._chunk_count >= self._chunk_rows or self._chunk_chars >= CHUNK_CHARS:
            self._end_chunk()

    def _end_chunk(self) -> None:
        chunk = [rows for rows in self._chunk if rows.frame.height]
        self._chunk, self._chunk_count, self._chunk_chars = [], 0, 0
        if not chunk:
            return
        if len(chunk) > 1:
            frame = pl.concat([rows.frame for rows in chunk])
            lengths = pl.concat([rows.lengths for rows in chunk])
        else:
            frame, lengths = chunk[0].frame, chunk[0].lengths
        first_seen = self._deduper.first_seen(frame)
        if first_seen is not None:
            self.duplicates += len(first_seen) - int(first_seen.sum())
            frame, lengths = frame.filter(first_seen), lengths.filter(first_seen)
        self._add_to_batches(frame, (lengths + (self.columns - 1)).to_list())

    def _add_to_batches(self, frame: pl.DataFrame, lengths: list[int]) -> None:
        """Append kept rows, flushing a batch right after the row that fills it."""
        totals = list(accumulate(lengths))
        start, end = 0, len(lengths)
        while start < end:
            before = totals[start - 1] if start else 0
            by_rows = start + (self._batch_rows - self._batch_count) - 1
            by_chars = bisect_left(totals, BATCH_CHARS - self._batch_chars + before, lo=start)
            last = min(by_rows, by_chars, end - 1)
            self._batch.append(frame.slice(start, last + 1 - start))
            self._batch_count += last + 1 - start
            self._batch_chars += totals[last] - before
            full = last in (by_rows, by_chars)
            start = last + 1
            if full:
                self._flush_batch()
                self._on_batch()

    def _flush_batch(self) -> None:
        if not self._batch:
            return
        frame = pl.concat(self._batch) if len(self._batch) > 1 else self._batch[0]
        self._batch, self._batch_count, self._batch_chars = [], 0, 0
        assert self._profiler is not None
        self._profiler.submit(functools.partial(self._profile_batch, frame))

    # -- profiling, on the profiler's thread ----------------------------------------------------

    def _take_header(self, names: list[str]) -> None:
        self.header = names
        self.profile = TableProfile(names, decimal_comma=self._decimal_comma)
        assert self._writer is not None
        self._writer.submit(functools.partial(self._write_header, names))

    def _profile_batch(self, frame: pl.DataFrame) -> None:
        # Profiled before neutralising: "-12.5" is a number and "=1+2" a string either way.
        nulls = self.profile.update_frame(frame)
        self.rows_out += frame.height
        assert self._writer is not None
        self._writer.submit(functools.partial(self._write_batch, frame, nulls))

    # -- writing, on the writer's thread -------------------------------------------------------

    def _write_header(self, names: list[str]) -> None:
        safe, changed = neutralise_all(names)
        self.formula_cells += changed
        line = io.StringIO()
        csv_writer(line).writerow(safe or names)
        self._write_text(line.getvalue())

    def _write_batch(self, frame: pl.DataFrame, nulls: list[int]) -> None:
        """Neutralise formulas (counting them), then write the batch in one call.

        Polars quotes exactly where the csv module's QUOTE_MINIMAL does (a test compares them),
        except that it writes "" for an empty string: written as null it is nothing, as there.
        Only columns with formulas or nulls (an empty cell is a null) are rewritten.
        """
        changed = dict.fromkeys(self._names, 0)
        may_need = frame.select(may_need_neutralising_expr(pl.col(name)).any() for name in self._names).row(0)
        if to_check := [name for name, candidates in zip(self._names, may_need, strict=True) if candidates]:
            checks = (needs_neutralising_expr(pl.col(name)).sum() for name in to_check)
            changed |= frame.select(checks).row(0, named=True)
        rewritten = []
        for index, (name, cells) in enumerate(changed.items()):
            self.formula_cells += cells
            self.profile.columns[index].formula_cells += cells
            if cells or nulls[index]:
                value = neutralised_expr(pl.col(name)) if cells else pl.col(name)
                rewritten.append(pl.when(pl.col(name) != "").then(value).alias(name))
        if rewritten:
            frame = frame.with_columns(rewritten)
        # One write per batch: the output stream's encoder runs once, not once per row.
        buffer = io.BytesIO()
        frame.write_csv(
            buffer, include_header=False, line_terminator=OUTPUT_LINE_TERMINATOR, quote_style="necessary"
        )
        self._write_text(buffer.getvalue().decode("utf-8"))

    def _write_text(self, text: str) -> None:
        assert self._output is not None
        self._output.write(text)
