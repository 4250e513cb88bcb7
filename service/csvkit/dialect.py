"""Detect the delimiter, the header row and the column count from the head of the file.

The standard library's ``csv.Sniffer`` guesses from character frequencies and is easily fooled
(decimal commas in a ``;`` file, commas in free text). Instead each candidate delimiter is tried
with a real, quote-aware parse of the sample, and the one giving the most consistent field count
wins: that is the property a table has and prose does not.

If no candidate splits rows consistently into two or more fields, the file is one column
(a list of e-mails, say): it is read with a delimiter that cannot occur (NUL, which the encoding
scan has already rejected), so a stray comma in a value does not split it.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .infer import Kind, KindMatcher, is_null
from .limits import field_too_long, too_many_columns

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
#: Stands in for "no delimiter" when reading a one-column file; never present in accepted text.
NO_DELIMITER = "\x00"
# Rows of the sample used to judge consistency and the header: enough for a stable mode,
# few enough that sniffing stays a fixed cost whatever the file size.
SNIFF_ROWS = 500
# A delimiter must give its modal field count on at least half the rows to count as the
# delimiter at all; ragged files (a test case) still pass, prose does not.
_MIN_CONSISTENCY = 0.5


@dataclass(frozen=True, slots=True)
class Dialect:
    delimiter: str | None  # None: one column, no delimiter found
    has_header: bool
    columns: int

    @property
    def read_delimiter(self) -> str:
        return self.delimiter if self.delimiter is not None else NO_DELIMITER


def make_reader(
    lines: Iterable[str], delimiter: str, *, strict: bool = False, literal_quotes: bool = False
) -> Iterator[list[str]]:
    """The one csv parser configuration used for sniffing, reading and recovery."""
    return csv.reader(
        lines,
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        quoting=csv.QUOTE_NONE if literal_quotes else csv.QUOTE_MINIMAL,
        skipinitialspace=True,  # so that `a, "b, c"` reads the quoted field as quoted
        strict=strict,
    )


def sniff_dialect(sample: str, *, complete: bool, max_columns: int, max_field_chars: int) -> Dialect:
    """Detect the dialect of ``sample``: the decoded head of a file (the whole file if complete).

    Raises TooManyColumnsError when the widest plausible row exceeds ``max_columns``, and
    FieldTooLongError when the very first field is over the csv parser's limit (callers set
    that limit from ``max_field_chars`` first, see :func:`.reader.ensure_parser_field_limit`).
    Returns ``columns == 0`` when the sample holds no record at all.
    """
    if not complete:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        # No line break in the whole sample: its single (partial) record is all there is.
        truncated_record = cut < 0
        sample = sample if truncated_record else sample[: cut + 1]
    else:
        truncated_record = False

    chosen = _choose_delimiter(sample)
    if chosen is None:
        if sample.strip():
            # Text, yet not one row parsed: the first field overflows the parser's limit.
            raise field_too_long(1, max_field_chars)
        return Dialect(delimiter=None, has_header=False, columns=0)
    delimiter, mode, rows = chosen

    matcher = KindMatcher(decimal_comma=delimiter not in (",", None))
    has_header = _looks_like_header(rows, matcher)
    columns = mode
    if has_header:
        columns = max(columns, _width_without_trailing_empties(rows[0]))
    if columns > max_columns:
        raise too_many_columns(columns, max_columns, at_least=truncated_record)
    return Dialect(delimiter=delimiter, has_header=has_header, columns=columns)


def _choose_delimiter(sample: str) -> tuple[str | None, int, list[list[str]]] | None:
    """The delimiter, its modal field count and the parsed rows; None if there is no record."""
    best: tuple[float, int, str, list[list[str]]] | None = None
    for delimiter in CANDIDATE_DELIMITERS:
        rows = _parse_rows(sample, delimiter)
        if not rows:
            return None
        counts = Counter(len(row) for row in rows)
        mode, hits = max(counts.items(), key=lambda item: (item[1], item[0]))
        consistency = hits / len(rows)
        if mode < 2 or consistency < _MIN_CONSISTENCY:
            continue
        # Ties keep the earlier candidate: CANDIDATE_DELIMITERS is in order of popularity.
        if best is None or (consistency, mode) > (best[0], best[1]):
            best = (consistency, mode, delimiter, rows)
    if best is None:
        return None, 1, _parse_rows(sample, NO_DELIMITER)
    _, mode, delimiter, rows = best
    return delimiter, mode, rows


def _parse_rows(sample: str, delimiter: str) -> list[list[str]]:
    """Up to SNIFF_ROWS non-blank rows; stops early at a field over the parser's limit.

    The reading pass reports that field properly (with its line and the user's limit); here
    the rows before it are evidence enough.
    """
    rows: list[list[str]] = []
    reader = make_reader(io.StringIO(sample, newline=""), delimiter)
    with contextlib.suppress(csv.Error):
        for row in reader:
            if row:  # blank lines are not rows
                rows.append(row)
                if len(rows) >= SNIFF_ROWS:
                    break
    return rows


def _width_without_trailing_empties(row: Sequence[str]) -> int:
    width = len(row)
    while width > 1 and not row[width - 1].strip():
        width -= 1
    return width


def _looks_like_header(rows: list[list[str]], matcher: KindMatcher) -> bool:
    """Vote per column: a typed data column under an untyped first cell says "header".

    A first cell of the same kind as the data below says "no header". If no column votes
    either way (all text), the first row is taken as a header when its cells are non-empty and
    distinct, as header names must be; most real exports have one, so ties go to "header".
    An empty first cell does not count against it (pandas writes one above its index column).
    """
    first = [cell.strip() for cell in rows[0]]
    data = rows[1:]
    if not data:
        # One record only: a header if nothing in it is typed data.
        return all(matcher.kind_of(cell) in (Kind.STRING, Kind.EMPTY) for cell in first)
    votes = 0
    for index, name in enumerate(first):
        column = [row[index].strip() for row in data if index < len(row)]
        values = [value for value in column if not is_null(value)]
        if not values:
            continue
        data_kind = matcher.widen(None, values)
        name_kind = matcher.kind_of(name)
        if data_kind is not Kind.STRING:
            if name_kind is Kind.EMPTY:
                continue
            votes += 1 if matcher.widen(data_kind, [name]) is Kind.STRING else -1
        elif name in values:
            votes -= 1  # a "header" that recurs as a value is more likely data
    if votes != 0:
        return votes > 0
    named = [cell for cell in first if cell]
    return bool(named) and len(set(named)) == len(named)
