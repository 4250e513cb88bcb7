"""The polars fast path: a block of text proven plain, read by polars' own CSV reader.

Polars reads CSV an order of magnitude faster than the csv module plus a transposition, but
it does not read every text the way the csv module does: it refuses ``ab"c`` and ``"ab"c``,
keeps ``a, "b"`` as the text ` "b"` where the csv module (``skipinitialspace``) reads a
quoted field, takes a lone CR for part of a cell where the csv module ends the line, gives
blank lines rows, and drops a byte-order mark at the start of its input. So a block goes to
polars only after it is proven *plain*, by one regex over the whole block run in polars
(a linear-time automaton, ~0.05 s for 20 MB): every line has exactly the table's column
count, every field is either unquoted without any quote or CR in it, or quoted from the
delimiter to the delimiter with only doubled quotes inside and no line break, and a CR only
ends a line with the LF after it. On such a block both parsers see the same records, field
for field, except for what the pass trims anyway: spaces before an unquoted field (the csv
module skips them) and the CR of a CRLF at the block's end.

Anything else makes :func:`read_plain_block` return None, and the caller hands the block's
lines to the slower paths (:mod:`.fastpath`, then :mod:`.reader`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

#: About this many characters per block: few enough polars calls that their fixed cost is
#: noise, small enough that a declined block costs the slower paths little extra memory.
PLAIN_BLOCK_CHARS = 1024 * 1024


@lru_cache(maxsize=16)
def _plain_block_pattern(delimiter: str, columns: int) -> str:
    """A Rust-regex pattern that matches a whole block exactly when it is plain (module doc)."""
    d = re.escape(delimiter)
    field = rf'(?:"(?:[^"\r\n]|"")*"|[^"{d}\r\n]*)'
    line = rf"{field}(?:{d}{field}){{{columns - 1}}}\r?"
    # Every line but the last ends in LF; the last may end in a lone CR or in nothing.
    return rf"\A(?:{line}\n)*(?:{line})?\z"


def column_names(columns: int) -> list[str]:
    """The names the pass gives its polars columns."""
    return [f"c{index}" for index in range(columns)]


def plain_block_lines(text: str) -> int:
    """Lines of a block :func:`read_plain_block` accepted (its only CR ends its last line)."""
    return text.count("\n") + (not text.endswith("\n"))


def read_plain_block(
    text: str, *, delimiter: str | None, columns: int, max_field_chars: int
) -> pl.DataFrame | None:
    """The block's records as one String column per table column, or None if not plain.

    ``text`` is whole lines, decoded. The cells are the csv module's up to surrounding
    whitespace, which the pass trims (see the module docstring). A one-column file (no
    delimiter) is never plain here: a blank line would read as a row of one empty cell.
    """
    if delimiter is None or columns < 2 or not text or text.startswith("\ufeff"):
        return None
    proven = pl.Series([text]).str.contains(_plain_block_pattern(delimiter, columns)).item()
    if not proven:
        return None
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            has_header=False,
            separator=delimiter,
            quote_char='"',
            schema=dict.fromkeys(column_names(columns), pl.String),
            empty_string_is_null=False,
        )
    except pl.exceptions.PolarsError:  # never seen on a proven block; declining is always safe
        return None
    if frame.height != plain_block_lines(text):  # belt and braces: one record per line
        return None
    # A cell over the limit is the record reader's error to raise. Polars' cells are never
    # shorter than the csv module's, and a block shorter than the limit cannot hold one.
    # Bytes first: a value's byte length is read off the column's offsets, and is never less
    # than its length in characters, so only a block with a long value counts characters.
    if (
        len(text) > max_field_chars
        and _longest(frame, pl.all().str.len_bytes()) > max_field_chars
        and _longest(frame, pl.all().str.len_chars()) > max_field_chars
    ):
        return None
    return frame


def _longest(frame: pl.DataFrame, lengths: pl.Expr) -> int:
    return int(frame.select(pl.max_horizontal(lengths.max())).item())
