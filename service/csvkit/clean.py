"""The streaming pass: records in, cleaned rows out, profile and counts updated on the way.

Per record: trim and fix the width (:mod:`.shape`) and drop exact duplicates (:mod:`.dedupe`).
Kept rows are collected into a batch of at most :data:`BATCH_CELLS` cells, which is handled
column by column, where C-level operations do the per-cell work: profiling (:mod:`.profile`)
and formula neutralisation (:mod:`.sanitize`). Then it is written in one call. Memory holds
one batch plus the bounded dedupe and distinct-count structures, never the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from .dedupe import DigestTable, row_digest
from .limits import too_many_rows
from .profile import TableProfile
from .reader import Record
from .sanitize import neutralise_all
from .shape import RowShaper

if TYPE_CHECKING:
    from _csv import Writer

# A batch ends at 100k cells or 1M characters, whichever comes first: big enough that the
# per-batch Python overhead (a few calls per column) is noise, small enough to be a few MB
# whatever the shape of the rows.
BATCH_CELLS = 100_000
BATCH_CHARS = 1_000_000


class CleaningPass:
    """Consumes the records of one file; read the public attributes afterwards."""

    def __init__(
        self,
        *,
        columns: int,
        has_header: bool,
        decimal_comma: bool,
        max_rows: int,
        expected_rows: int,
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
        self._digests = DigestTable(expected=min(expected_rows, max_rows))
        self._batch_rows = max(16, BATCH_CELLS // columns)
        self.profile = TableProfile(
            [f"column_{index}" for index in range(1, columns + 1)], decimal_comma=decimal_comma
        )

    def run(self, records: Iterable[Record], writer: Writer, on_batch: Callable[[], None]) -> None:
        batch: list[list[str]] = []
        batch_chars = 0
        shape = self.shaper.shape
        add_digest = self._digests.add
        for record in records:
            if self._expects_header:
                self._expects_header = False
                self._write_header(self.shaper.header(record), writer)
                continue
            self.rows_in += 1
            if self.rows_in > self._max_rows:
                raise too_many_rows(self._max_rows)
            cells = shape(record)
            if cells is None:
                continue
            # NUL cannot occur in accepted text and the width is fixed: the join is unambiguous.
            joined = "\x00".join(cells)
            if not add_digest(row_digest(joined)):
                self.duplicates += 1
                continue
            batch.append(cells)
            batch_chars += len(joined)
            if len(batch) >= self._batch_rows or batch_chars >= BATCH_CHARS:
                self._flush(batch, writer)
                batch_chars = 0
                on_batch()
        self._flush(batch, writer)

    def _write_header(self, names: list[str], writer: Writer) -> None:
        self.header = names
        self.profile = TableProfile(names, decimal_comma=self._decimal_comma)
        safe, changed = neutralise_all(names)
        self.formula_cells += changed
        writer.writerow(safe or names)

    def _flush(self, batch: list[list[str]], writer: Writer) -> None:
        if not batch:
            return
        columns: list[Sequence[str]] = list(zip(*batch, strict=True))
        # Profiled before neutralising: "-12.5" is a number and "=1+2" a string either way.
        self.profile.update_columns(columns)
        neutralised = False
        for index, values in enumerate(columns):
            safe, changed = neutralise_all(values)
            if safe is not None:
                columns[index] = safe
                self.formula_cells += changed
                neutralised = True
        writer.writerows(zip(*columns, strict=True) if neutralised else batch)
        self.rows_out += len(batch)
        batch.clear()
