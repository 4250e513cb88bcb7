"""Give every row the table's column count, and keep account of rows that did not have it.

Policy (shown to users in the summary and the profile):

* cells are trimmed of surrounding whitespace;
* a row whose cells are all empty is dropped (counted as an empty row, not as malformed);
* a short row is padded with empty cells: tools often omit trailing empty fields;
* a long row whose extra cells are all empty (trailing delimiters) is cut back silently;
* a long row with non-empty extra cells is **dropped**: its values are shifted (typically an
  unquoted delimiter inside a value), so padding or cutting it would put values under the
  wrong headers. Its line number is reported instead;
* rows the parser had to re-read (broken quoting, an unclosed quote) are kept and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .reader import Problem, Record

#: How many line numbers of malformed rows are quoted back to the user.
FIRST_LINES_KEPT = 5


@dataclass(slots=True)
class MalformedRows:
    rows: int = 0  # rows with at least one problem
    short: int = 0
    long_dropped: int = 0
    quoting: int = 0
    unclosed_quote: int = 0
    first_lines: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "short_rows_padded": self.short,
            "long_rows_dropped": self.long_dropped,
            "broken_quoting": self.quoting,
            "unclosed_quote": self.unclosed_quote,
            "first_lines": list(self.first_lines),
        }


class RowShaper:
    """Trims and fixes rows to ``columns`` cells; counts what it had to do."""

    __slots__ = ("_columns", "_padding", "empty_rows", "malformed")

    def __init__(self, columns: int) -> None:
        self._columns = columns
        self._padding = [""] * columns
        self.empty_rows = 0
        self.malformed = MalformedRows()

    def header(self, record: Record) -> list[str]:
        """Header names: trimmed, the missing or empty ones named ``column_N``."""
        cells = [cell.strip() for cell in record.cells[: self._columns]]
        cells.extend(self._padding[len(cells) :])
        return [name or f"column_{index}" for index, name in enumerate(cells, start=1)]

    def shape(self, record: Record) -> list[str] | None:
        """The row to keep, or None if it is dropped."""
        cells = [cell.strip() for cell in record.cells]
        if not any(cells):
            self.empty_rows += 1
            return None
        width = len(cells)
        problem = record.problem is not None
        if record.problem is Problem.QUOTING:
            self.malformed.quoting += 1
        elif record.problem is Problem.UNCLOSED_QUOTE:
            self.malformed.unclosed_quote += 1
        keep: list[str] | None = cells
        if width < self._columns:
            cells.extend(self._padding[width:])
            self.malformed.short += 1
            problem = True
        elif width > self._columns:
            if any(cells[self._columns :]):
                self.malformed.long_dropped += 1
                problem = True
                keep = None
            else:
                del cells[self._columns :]
        if problem:
            self.malformed.rows += 1
            if len(self.malformed.first_lines) < FIRST_LINES_KEPT:
                self.malformed.first_lines.append(record.line)
        return keep
