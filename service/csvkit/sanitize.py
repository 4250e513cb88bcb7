"""Neutralise cells a spreadsheet would execute as formulas (CSV injection).

The rule, the same for every cell of every CSV csvbot writes:

    A cell whose first character after any leading apostrophes is ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets one more apostrophe in front — unless the cell is a negative
    number written plainly: ``-``, digits, at most one ``.`` or ``,`` with digits after it, and
    an optional exponent (``-12.5``, ``-3,75``, ``-1e5``).

So ``=1+2`` becomes ``'=1+2`` and ``-12.5`` stays a number (quoting it would turn every negative
amount into text). A leading ``+`` is always text: phone numbers come out alike —
``+7 (495) 123-45-67``, ``+79161234567`` and ``+7`` all become ``'+…`` — instead of some being
read as numbers (losing the ``+``) and others not. Counting leading apostrophes makes the rule
reversible: removing one apostrophe from a cell that starts with apostrophes and a trigger gives
back exactly what the user wrote (:func:`restore`), which is how the XLSX export writes the
original values as text cells. Quotes and delimiters inside cells are the CSV writer's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import polars as pl

from .polars_regex import fullmatch_pattern, prefix_pattern

FORMULA_TRIGGERS = frozenset("=+-@\t\r")
_NEGATIVE_NUMBER_RE = r"-(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_NEGATIVE_NUMBER = re.compile(_NEGATIVE_NUMBER_RE, re.ASCII)
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
# A value, in a NUL-separated column with a leading NUL, that the rule changes. One C-level
# search per column of a batch skips every column that needs nothing (nearly all of them,
# including columns of negative numbers). The trigger is looked for first: the number check
# then runs only at cells that start with one.
_COLUMN_NEEDS_NEUTRALISING = re.compile(
    rf"\x00(?='*[=+\-@\t\r])(?!{_NEGATIVE_NUMBER_RE}(?:\x00|\Z))", re.ASCII
)


def neutralise(cell: str) -> str:
    """``cell`` made safe to open in a spreadsheet (the module's rule)."""
    if cell and cell[0] in "'=+-@\t\r" and _NEEDS_QUOTE.match(cell) and not _NEGATIVE_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The value the user wrote, from its neutralised form (the inverse of :func:`neutralise`)."""
    return cell[1:] if _QUOTED.match(cell) else cell


def neutralise_all(
    values: Sequence[str],
    joined: str | None = None,
    values_of: Callable[[], Sequence[str]] | None = None,
) -> tuple[list[str] | None, int]:
    """``values`` (a row or a column; none may contain NUL) made safe, and how many changed.

    Returns ``(None, 0)`` when nothing needs changing, decided by one regex search over
    ``joined``: the values each preceded by NUL (a trailing NUL is fine), made here if not given.
    ``values_of``, if given, supplies the values only when something does need changing.
    """
    if not _COLUMN_NEEDS_NEUTRALISING.search("\x00" + "\x00".join(values) if joined is None else joined):
        return None, 0
    if values_of is not None:
        values = values_of()
    safe = [neutralise(value) for value in values]
    # neutralise() returns its argument itself when it leaves a value alone.
    changed = sum(1 for before, after in zip(values, safe, strict=True) if before is not after)
    return safe, changed


_NEEDS_QUOTE_POLARS = prefix_pattern(_NEEDS_QUOTE)
_NEGATIVE_NUMBER_POLARS = fullmatch_pattern(_NEGATIVE_NUMBER)


def needs_neutralising_expr(column: pl.Expr) -> pl.Expr:
    """Per value of a polars String column: whether :func:`neutralise` would change it."""
    return column.str.contains(_NEEDS_QUOTE_POLARS) & ~column.str.contains(_NEGATIVE_NUMBER_POLARS)


def neutralised_expr(column: pl.Expr) -> pl.Expr:
    """A polars String column with :func:`neutralise` applied to every value."""
    return pl.when(needs_neutralising_expr(column)).then(pl.lit("'") + column).otherwise(column)
