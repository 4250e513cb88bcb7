"""What kind of value a cell holds, and how a column's kind widens as more values arrive.

Kinds form a small lattice. Each pattern accepts everything the narrower kinds below it accept,
so a column's kind only ever widens, and a whole batch is checked at once per candidate kind,
instead of a Python call per cell: by polars (:meth:`KindMatcher.accepts_expr`) in the pass,
by one regex match over the column joined into one string (:func:`join_column`) when sniffing::

    boolean ─────────────────────────┐
    integer ─> float ────────────────┼─> string
    date ────> datetime ─────────────┘

Conventions (documented because users will ask):

* null: an empty cell or a conventional null token (``NULL``, ``None``, ``NA``, ``N/A``, ``NaN``,
  ``#N/A``, ``nil``), case-insensitive. A column of nulls only is ``empty``.
* boolean: true/false, yes/no and the Russian да/нет, истина/ложь (Russian Excel's TRUE/FALSE).
  ``0``/``1`` are integers.
* numbers: ASCII digits (up to 100 per part), optional sign, ``.`` decimal point and exponent.
  A ``,`` decimal point
  (``12,5``) counts as a number only when the file is not comma-delimited: in a ``;`` export from
  Russian Excel it is a decimal comma, in a comma file ``"1,234"`` is more likely thousands.
* dates: ``2024-03-31``, ``2024/03/31``, ``31.03.2024``, ``31/03/2024``, ``03/31/2024``;
  datetimes add ``[T ]HH:MM[:SS[.fff]]`` and an optional ``Z``/``±HH:MM`` offset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

import polars as pl

from .polars_regex import fullmatch_pattern


class Kind(StrEnum):
    EMPTY = "empty"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    FLOAT = "float"
    DATE = "date"
    DATETIME = "datetime"
    STRING = "string"


NULL_TOKENS = frozenset({"", "null", "none", "na", "n/a", "nan", "#n/a", "nil"})
_NULL_TOKEN_MAX_LEN = max(map(len, NULL_TOKENS))

_BOOLEAN = re.compile(r"(?:true|false|yes|no|да|нет|истина|ложь)", re.IGNORECASE)
# At most 100 digits per part: longer digit strings are ids or junk, not quantities, and int()
# refuses strings over 4,300 digits (CPython's guard against quadratic conversion).
_DIGITS = r"\d{1,100}"
_INTEGER = re.compile(rf"[+-]?{_DIGITS}", re.ASCII)
_FLOAT_DOT = re.compile(rf"[+-]?(?:{_DIGITS}(?:\.\d{{0,100}})?|\.{_DIGITS})(?:[eE][+-]?\d{{1,4}})?", re.ASCII)
_FLOAT_ANY = re.compile(
    rf"[+-]?(?:{_DIGITS}(?:[.,]\d{{0,100}})?|[.,]{_DIGITS})(?:[eE][+-]?\d{{1,4}})?", re.ASCII
)

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DATE_PART = (
    rf"(?:\d{{4}}-{_MONTH}-{_DAY}|\d{{4}}/{_MONTH}/{_DAY}"
    rf"|{_DAY}\.{_MONTH}\.\d{{4}}|{_DAY}/{_MONTH}/\d{{4}}|{_MONTH}/{_DAY}/\d{{4}})"
)
_TIME_PART = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?"
_DATE = re.compile(_DATE_PART, re.ASCII)
_DATETIME = re.compile(rf"{_DATE_PART}(?:[T ]{_TIME_PART})?", re.ASCII)

# For each kind, the kinds a column may widen to, narrowest first. STRING is always last and
# needs no check.
_WIDENINGS: dict[Kind | None, tuple[Kind, ...]] = {
    None: (Kind.BOOLEAN, Kind.INTEGER, Kind.FLOAT, Kind.DATE, Kind.DATETIME),
    Kind.BOOLEAN: (Kind.BOOLEAN,),
    Kind.INTEGER: (Kind.INTEGER, Kind.FLOAT),
    Kind.FLOAT: (Kind.FLOAT,),
    Kind.DATE: (Kind.DATE, Kind.DATETIME),
    Kind.DATETIME: (Kind.DATETIME,),
    Kind.STRING: (),
}

NUMERIC_KINDS = frozenset({Kind.INTEGER, Kind.FLOAT})


def is_null(value: str) -> bool:
    """True for an empty cell or a null token (``value`` is already trimmed)."""
    return not value or (len(value) <= _NULL_TOKEN_MAX_LEN and value.lower() in NULL_TOKENS)


def join_column(values: Sequence[str] | pl.Series) -> str:
    """``values`` as one string, each value preceded and the whole ended by NUL.

    One join per column (in Rust for a polars Series); the kind checks of a list of values (the
    sniffed rows, a header) then run one regex over it instead of a call per cell.
    """
    if isinstance(values, pl.Series):
        return "\x00" + str(values.str.join("\x00").item()) + "\x00"
    return "\x00" + "\x00".join(values) + "\x00"


def _column_pattern(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` repeated over values joined and ended by NUL: one C-level match per batch.

    No pattern can match NUL, and accepted text holds none, so each repetition spans exactly
    one value; the atomic group commits to a value once it matched (any way of matching it
    ends at the same NUL), and the possessive star never backtracks into earlier values. So
    the column matches exactly when every value fullmatches ``pattern``.
    """
    return re.compile(rf"\x00(?:(?>(?:{pattern.pattern})\x00))*+", pattern.flags)


_COLUMN_PATTERNS = {
    pattern: _column_pattern(pattern)
    for pattern in (_BOOLEAN, _INTEGER, _FLOAT_DOT, _FLOAT_ANY, _DATE, _DATETIME)
}


# ``is_null`` for a polars column, the tokens spelled out in ASCII case pairs. That is exactly
# ``value.lower() in NULL_TOKENS``: the only non-ASCII character that lowers to ASCII is the
# Kelvin sign (to "k", in no token), which a test checks.
_NULL_VALUE = re.compile(
    "(?:"
    + "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in token)
        for token in sorted(NULL_TOKENS)
    )
    + ")"
)
_NULL_VALUE_POLARS = fullmatch_pattern(_NULL_VALUE)


def null_expr(column: pl.Expr) -> pl.Expr:
    """Per value of a polars String column: whether it is empty or a null token (``is_null``)."""
    return column.str.contains(_NULL_VALUE_POLARS)


def null_count_expr(column: pl.Expr) -> pl.Expr:
    """An aggregate: how many values of a polars String column are nulls (``is_null``).

    Only values of at most four bytes can be a null token (all are ASCII), and a value's byte
    length is read off the column's offsets, so the regex runs on the short values alone.
    """
    return null_expr(column.filter(column.str.len_bytes() <= _NULL_TOKEN_MAX_LEN)).sum()


def candidate_kinds(current: Kind | None) -> tuple[Kind, ...]:
    """The kinds a column of kind ``current`` may widen to, narrowest first (STRING aside)."""
    return _WIDENINGS[current]


class KindMatcher:
    """Kind checks for one file; only the decimal separator convention differs between files."""

    __slots__ = ("_columns", "_patterns", "_polars")

    def __init__(self, *, decimal_comma: bool) -> None:
        self._patterns: dict[Kind, re.Pattern[str]] = {
            Kind.BOOLEAN: _BOOLEAN,
            Kind.INTEGER: _INTEGER,
            Kind.FLOAT: _FLOAT_ANY if decimal_comma else _FLOAT_DOT,
            Kind.DATE: _DATE,
            Kind.DATETIME: _DATETIME,
        }
        self._columns = {kind: _COLUMN_PATTERNS[pattern] for kind, pattern in self._patterns.items()}
        self._polars = {kind: fullmatch_pattern(pattern) for kind, pattern in self._patterns.items()}

    def accepts_expr(self, kind: Kind, column: pl.Expr) -> pl.Expr:
        """Per value of a polars String column: whether ``kind``'s pattern accepts it."""
        return column.str.contains(self._polars[kind])

    def widen(self, current: Kind | None, values: Sequence[str]) -> Kind:
        """The narrowest kind at or above ``current`` that accepts every (non-null) value."""
        return self.widen_joined(current, values[0], join_column(values)) if values else Kind.STRING

    def widen_joined(self, current: Kind | None, first: str, joined: str) -> Kind:
        """:meth:`widen` for values given by :func:`join_column`, ``first`` being the first."""
        for kind in _WIDENINGS[current]:
            # The first value alone rules most kinds out without scanning the batch.
            if self._patterns[kind].fullmatch(first) and self._columns[kind].fullmatch(joined):
                return kind
        return Kind.STRING

    def kind_of(self, value: str) -> Kind:
        """The kind of a single value (EMPTY for a null)."""
        if is_null(value):
            return Kind.EMPTY
        return self.widen(None, (value,))
