"""The output formats: CSV as the engine wrote it, CSV for Excel, XLSX with text cells."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from service.csvkit import CsvLimits, process_csv
from service.exports import default_format, export_results, format_for
from service.i18n import use_language

LIMITS = CsvLimits(max_bytes=1 << 20, max_rows=100, max_columns=10, max_field_chars=100)


def _result(tmp_path: Path):  # type: ignore[no-untyped-def]
    source = tmp_path / "in.csv"
    source.write_text("id,phone,amount,f\n007,+79161234567,12.5,=1+2\n8,+7,-3.25,x\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    return process_csv(source, out, LIMITS)


def test_russian_gets_csv_for_excel_by_default_and_a_choice_wins() -> None:
    assert default_format("ru") == "csv_excel" and default_format("en") == "csv"
    assert format_for("xlsx", "ru") == "xlsx" and format_for(None, "en") == "csv"


def test_csv_for_excel_uses_semicolons_and_a_decimal_comma(tmp_path: Path) -> None:
    result = _result(tmp_path)
    with use_language("ru"):
        exported = export_results(
            result.cleaned_path, result.profile["column_profiles"], tmp_path, "csv_excel"
        )
    with exported.cleaned.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream, delimiter=";"))
    assert rows == [
        ["id", "phone", "amount", "f"],
        ["007", "'+79161234567", "12,5", "'=1+2"],
        ["8", "'+7", "-3,25", "x"],
    ]
    with exported.profile.open(encoding="utf-8-sig", newline="") as stream:
        header = next(csv.reader(stream, delimiter=";"))
    assert header[:3] == ["номер", "имя", "тип"]  # the profile's headers in the user's language


def test_xlsx_keeps_what_the_user_wrote_as_text_and_exact_numbers_as_numbers(tmp_path: Path) -> None:
    result = _result(tmp_path)
    exported = export_results(result.cleaned_path, result.profile["column_profiles"], tmp_path, "xlsx")
    sheet = load_workbook(exported.cleaned).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    types = [[cell.data_type for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert values == [
        ["id", "phone", "amount", "f"],
        ["007", "+79161234567", 12.5, "=1+2"],
        [8, "+7", -3.25, "x"],
    ]
    assert types[0] == ["s", "s", "n", "s"]  # "=1+2" is a string cell, never a formula
