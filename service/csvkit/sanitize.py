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
from collections.abc import Sequence

import polars as pl

from .polars_regex import fullmatch_pattern, prefix_pattern

FORMULA_TRIGGERS = frozenset("=+-@\t\r")
_NEGATIVE_NUMBER = re.compile(r"-(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")


def neutralise(cell: str) -> str:
    """``cell`` made safe to open in a spreadsheet (the module's rule)."""
    if cell and cell[0] in "'=+-@\t\r" and _NEEDS_QUOTE.match(cell) and not _NEGATIVE_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The value the user wrote, from its neutralised form (the inverse of :func:`neutralise`)."""
    return cell[1:] if _QUOTED.match(cell) else cell


def neutralise_all(values: Sequence[str]) -> tuple[list[str] | None, int]:
    """``values`` (a row, such as the header) made safe, and how many changed; ``(None, 0)``
    when nothing needs changing. A batch's columns are neutralised in polars instead
    (:func:`neutralised_expr`)."""
    safe = [neutralise(value) for value in values]
    # neutralise() returns its argument itself when it leaves a value alone.
    changed = sum(1 for before, after in zip(values, safe, strict=True) if before is not after)
    return (safe, changed) if changed else (None, 0)


_NEEDS_QUOTE_POLARS = prefix_pattern(_NEEDS_QUOTE)
_NEGATIVE_NUMBER_POLARS = fullmatch_pattern(_NEGATIVE_NUMBER)


def needs_neutralising_expr(column: pl.Expr) -> pl.Expr:
    """Per value of a polars String column: whether :func:`neutralise` would change it."""
    return column.str.contains(_NEEDS_QUOTE_POLARS) & ~column.str.contains(_NEGATIVE_NUMBER_POLARS)


def may_need_neutralising_expr(column: pl.Expr) -> pl.Expr:
    """Per value of a polars String column: False only where :func:`neutralise` surely leaves
    it alone, because it starts with a digit or a byte from ``A`` up (every trigger and the
    apostrophe sort below ``0`` or from ``=`` to ``@``). Comparing a value with a one-character
    string looks at its first byte only, a fraction of a regex per value, so columns without
    any candidate (ids, names, dates, flags) skip :func:`needs_neutralising_expr`."""
    return (column < "0") | ((column >= "=") & (column < "A"))


def neutralised_expr(column: pl.Expr) -> pl.Expr:
    """A polars String column with :func:`neutralise` applied to every value."""
    return pl.when(needs_neutralising_expr(column)).then(pl.lit("'") + column).otherwise(column)
