"""XLSX writing (openpyxl, write-only mode: rows stream to the file, memory stays flat).

openpyxl stores a string that starts with ``=`` as a formula; every text cell here is created
with the string type set explicitly, so nothing a user wrote can become a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from service.csvkit.sanitize import restore

#: Numbers a spreadsheet keeps exactly: no leading zeros or ``+``, at most 15 significant digits.
_EXACT_INTEGER = re.compile(r"-?(?:0|[1-9]\d{0,14})", re.ASCII)
_EXACT_DECIMAL = re.compile(r"-?(?:0|[1-9]\d*)[.,]\d*[1-9]", re.ASCII)
MAX_DIGITS = 15
#: Excel's cell limit; longer values are cut there anyway (the CSV engine's limit may be higher).
MAX_CELL_CHARS = 32_767


def as_number(value: str) -> int | float | None:
    """``value`` as a number if writing it as one loses nothing of what the user wrote."""
    if _EXACT_INTEGER.fullmatch(value):
        return int(value)
    if _EXACT_DECIMAL.fullmatch(value) and sum(c.isdigit() for c in value) <= MAX_DIGITS:
        return float(value.replace(",", "."))
    return None


def write_xlsx(
    path: Path,
    rows: Iterator[Sequence[object]],
    *,
    numeric_columns: Sequence[bool] | None,
    restore_cells: bool,
) -> None:
    """Write ``rows`` to one sheet. The first row is the header (always text). With
    ``numeric_columns``, exact numbers in those columns become numbers; ``restore_cells`` undoes
    the CSV neutralisation (a text cell needs none)."""
    workbook = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = workbook.create_sheet("data")
    for index, row in enumerate(rows):
        cells = []
        for position, value in enumerate(row):
            cells.append(
                _cell(sheet, value, index > 0 and _numeric(numeric_columns, position), restore_cells)
            )
        sheet.append(cells)
    workbook.save(path)


def _numeric(numeric_columns: Sequence[bool] | None, position: int) -> bool:
    return numeric_columns is not None and position < len(numeric_columns) and numeric_columns[position]


def _cell(sheet: WriteOnlyWorksheet, value: object, numeric: bool, restore_cells: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        value = "" if value is None else str(value)
    if isinstance(value, int | float):
        return WriteOnlyCell(sheet, value=value)
    text = restore(value) if restore_cells else value
    if numeric:
        number = as_number(text)
        if number is not None:
            return WriteOnlyCell(sheet, value=number)
    cell = WriteOnlyCell(sheet, value=None)
    cell.value = text[:MAX_CELL_CHARS]
    cell.data_type = "s"  # never "f": a user's "=..." is text
    return cell
