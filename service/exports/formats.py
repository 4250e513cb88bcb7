"""The three output formats and what each does with the cleaned table.

* ``csv`` — the engine's file as it is: UTF-8 with a byte-order mark, comma-separated, RFC 4180
  quoting, formula-like cells neutralised (a leading ``'``, see :mod:`service.csvkit.sanitize`).
* ``csv_excel`` — for spreadsheets whose list separator is ``;`` (Russian and most European
  locales, where ``,`` is the decimal separator): the same cells, ``;``-separated, and numbers of
  decimal columns written with a decimal comma (``12.5`` → ``12,5``) so Excel reads them as
  numbers. The default for Russian.
* ``xlsx`` — a workbook (openpyxl). Every cell holds exactly what the user wrote, as text —
  formula-like cells too (a text cell is never evaluated, so no apostrophe is needed) — except
  the numbers of number columns, written as numbers when that loses nothing: no leading zeros,
  no leading ``+``, at most 15 significant digits (what a spreadsheet keeps). Phone numbers
  (``+79161234567``) and ids with leading zeros (``007``) therefore come through intact.

The profile comes in the same format, with its column headers in the user's language.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.csvkit.outputs import OUTPUT_ENCODING, OUTPUT_LINE_TERMINATOR
from service.exports.profile_table import profile_rows
from service.exports.xlsx import write_xlsx
from service.i18n.language import RUSSIAN

CSV = "csv"
CSV_EXCEL = "csv_excel"
XLSX = "xlsx"
OUTPUT_FORMATS: tuple[str, ...] = (CSV, CSV_EXCEL, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv",
    CSV_EXCEL: "text/csv",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {CSV: ".csv", CSV_EXCEL: ".csv", XLSX: ".xlsx"}
NUMERIC_TYPES = frozenset({"integer", "float"})


def default_format(language: str) -> str:
    return CSV_EXCEL if language == RUSSIAN else CSV


def format_for(chosen: str | None, language: str) -> str:
    return chosen if chosen in OUTPUT_FORMATS else default_format(language)


@dataclass(frozen=True, slots=True)
class Exported:
    output_format: str
    cleaned: Path
    profile: Path
    content_type: str

    def names(self, stem: str) -> tuple[str, str]:
        """The file names the user sees: ``sales.cleaned.xlsx``, ``sales.profile.xlsx``."""
        ext = EXTENSIONS[self.output_format]
        return f"{stem}.cleaned{ext}", f"{stem}.profile{ext}"


def export_results(
    cleaned_csv: Path, column_profiles: Sequence[dict[str, Any]], out_dir: Path, output_format: str
) -> Exported:
    """Write the cleaned table and the profile in ``output_format`` (in the current language)."""
    ext = EXTENSIONS[output_format]
    cleaned, profile = out_dir / f"export.cleaned{ext}", out_dir / f"export.profile{ext}"
    types = [str(column["type"]) for column in column_profiles]
    headers, rows = profile_rows(column_profiles, neutralised=output_format != XLSX)
    if output_format == XLSX:
        numeric = [kind in NUMERIC_TYPES for kind in types]
        write_xlsx(cleaned, _read_rows(cleaned_csv), numeric_columns=numeric, restore_cells=True)
        write_xlsx(profile, iter([headers, *rows]), numeric_columns=None, restore_cells=False)
    elif output_format == CSV_EXCEL:
        decimal = [kind == "float" for kind in types]
        _write_csv(cleaned, (_decimal_comma(row, decimal) for row in _read_rows(cleaned_csv)), ";")
        rows = [[_comma(value) for value in row] for row in rows]
        _write_csv(profile, iter([headers, *rows]), ";")
    else:
        shutil.copyfile(cleaned_csv, cleaned)
        _write_csv(profile, iter([headers, *rows]), ",")
    return Exported(output_format, cleaned, profile, CONTENT_TYPES[output_format])


def _comma(value: object) -> object:
    return str(value).replace(".", ",") if isinstance(value, float) else value


def _read_rows(path: Path) -> Iterator[list[str]]:
    with path.open("r", encoding=OUTPUT_ENCODING, newline="") as stream:
        yield from csv.reader(stream)


def _write_csv(path: Path, rows: Iterator[Sequence[object]], delimiter: str) -> None:
    with path.open("w", encoding=OUTPUT_ENCODING, newline="") as stream:
        writer = csv.writer(stream, delimiter=delimiter, lineterminator=OUTPUT_LINE_TERMINATOR)
        writer.writerows(rows)


def _decimal_comma(row: list[str], decimal: Sequence[bool]) -> list[str]:
    """Numbers of decimal columns with a decimal comma; the header row has none to change."""
    return [
        value.replace(".", ",", 1) if is_decimal and _is_dot_decimal(value) else value
        for value, is_decimal in zip(row, decimal, strict=False)
    ] + row[len(decimal) :]


def _is_dot_decimal(value: str) -> bool:
    body = value[1:] if value[:1] == "-" else value
    whole, dot, fraction = body.partition(".")
    return bool(dot) and whole.isdigit() and fraction.isdigit() and whole.isascii() and fraction.isascii()
