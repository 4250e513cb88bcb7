"""The csv-module fast path: a block of lines parsed in one call and handed on column by column.

The pass tries it on blocks the polars path (:mod:`.plainread`) declined, and on the header.

Most blocks of most files are plain: one record per line, every row as wide as the table, no
quoting slip, no cell near the length limit. For such a block the standard library's parser,
called once on the whole list of lines, gives exactly the records the record-by-record reader
(:mod:`.reader`) would give, so the per-record Python work (line tap, record objects, row
shaping) can be skipped: the block is transposed in one call, and trimming, like all later
per-cell work, happens column by column in polars (:mod:`.clean`).

Anything else (a quoted line break, a short or long row, a parse error, a long line) makes
:func:`parse_block` return None, and the caller hands the block to the record reader, which
treats it exactly as before; the next block is tried on the fast path again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from .dialect import make_reader

#: About this many characters per block: ~1,000 typical rows, few enough that the row lists
#: die young (the cyclic GC never scans them) and the fallback re-reads little.
BLOCK_CHARS = 128 * 1024


def _plain_rows(lines: list[str], delimiter: str, max_field_chars: int) -> list[list[str]] | None:
    """The block's records (blank lines dropped) if each is one line and no cell can be too long."""
    # A cell is never longer than its line: short lines cannot hit the field limit.
    if max(map(len, lines)) > max_field_chars:
        return None
    try:
        rows = list(make_reader(lines, delimiter, strict=True))
    except csv.Error:
        return None
    if len(rows) != len(lines):  # a record spans lines, or the block ends inside a quote
        return None
    return list(filter(None, rows))  # blank lines are not records


@dataclass(slots=True)
class PlainBlock:
    header: list[str] | None  # the raw header record, when the block starts with it
    records: int  # data records (blank lines are not records)
    columns: list[tuple[str, ...]]  # cells of the data rows, column by column, not yet trimmed


def parse_block(
    lines: list[str],
    *,
    delimiter: str,
    columns: int,
    expects_header: bool,
    max_field_chars: int,
    max_columns: int,
) -> PlainBlock | None:
    """The block's records if it is plain (see the module docstring), else None."""
    rows = _plain_rows(lines, delimiter, max_field_chars)
    if rows is None:
        return None
    header = None
    if expects_header and rows:
        header = rows.pop(0)
        if len(header) > max_columns:
            return None  # the record reader raises the proper error for it
    if not rows:
        return PlainBlock(header, 0, [])
    if min(map(len, rows)) != columns or max(map(len, rows)) != columns:
        return None
    return PlainBlock(header, len(rows), list(zip(*rows, strict=True)))
