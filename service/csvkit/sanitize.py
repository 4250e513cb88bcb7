"""Neutralise cells a spreadsheet would execute as formulas (CSV injection).

OWASP's recommendation: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
is prefixed with a single quote, which makes Excel, LibreOffice and Google Sheets show it as
text. Plain numbers are the exception the issue asks for: ``-12.5`` or ``+7`` cannot call
anything, and quoting them would turn every negative amount into text.

Anything else starting with those characters is neutralised, including values users may find
harmless (``-``, ``+7 (495) 123-45-67``): telling a phone number from a formula is exactly the
guessing that CSV injection exploits. Quotes and delimiters inside cells are the CSV writer's
job (it quotes such cells), not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

FORMULA_TRIGGERS = frozenset("=+-@\t\r")
_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_PLAIN_NUMBER = re.compile(_NUMBER, re.ASCII)
# A value, in a NUL-separated column with a leading NUL, that starts with a trigger and is not
# a plain number. One C-level search per column of a batch skips every column that needs
# nothing (nearly all of them, including columns of negative numbers).
# The trigger is looked for first: the number check then runs only at cells that start with one.
_COLUMN_NEEDS_NEUTRALISING = re.compile(rf"\x00(?=[=+\-@\t\r])(?!{_NUMBER}(?:\x00|\Z))", re.ASCII)


def neutralise(cell: str) -> str:
    """``cell`` made safe to open in a spreadsheet."""
    if cell and cell[0] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


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
