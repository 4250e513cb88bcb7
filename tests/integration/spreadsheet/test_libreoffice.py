"""csvbot's outputs opened in a real spreadsheet: headless LibreOffice Calc (Debian's package).

Two inputs (UTF-8 with commas, Windows-1251 with semicolons) full of formula payloads and phone
numbers go through the CSV engine and each output format; LibreOffice opens every file (the CSV
for Excel one as a Russian-locale user would, with ``;`` and a decimal comma) and writes what its
cells show back as CSV. No formula may have been evaluated; every XLSX cell must show exactly what
the user wrote; every CSV cell what the user wrote or its documented form (the neutralising
apostrophe, a decimal comma in CSV for Excel, an id with leading zeros read as a number).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from service.csvkit import CsvLimits, process_csv
from service.csvkit.sanitize import neutralise
from service.exports import OUTPUT_FORMATS, export_results
from service.i18n import use_language

pytestmark = pytest.mark.integration

HEADER = ["id", "phone", "payload", "amount", "name"]
ROWS = [
    ["007", "+79161234567", "=1+2", "-12.5", "Иван"],
    ["8", "+7 (495) 123-45-67", "@SUM(A1:A2)", "3.25", "Ёлка"],
    ["9", "+7", "-1+2", "0", '=HYPERLINK("http://x","y")'],
    ["10", "8 (812) 000-00-00", "+SUM(1;2)", "-0.5", "'=kept"],
]
LIMITS = CsvLimits(max_bytes=1 << 20, max_rows=1000, max_columns=50, max_field_chars=1000)
# LibreOffice CSV filter tokens: separator, quote (34 = "), charset (76 = UTF-8), first line,
# column formats, language (1033 en-US, 1049 ru-RU); import: quoted as text, detect special numbers.
IMPORT = {",": "CSV:44,34,76,1,,1033", ";": "CSV:59,34,76,1,,1049"}
# Export what the cells show (token 9), never their formulas (token 10 false).
EXPORT = "csv:Text - txt - csv (StarCalc):44,34,76,1,,1033,false,true,true,false"
# A first start of LibreOffice builds its profile; later conversions take about a second.
SOFFICE_TIMEOUT = 180


def _write_inputs(folder: Path) -> dict[str, Path]:
    utf8 = folder / "utf8.csv"
    with utf8.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([HEADER, *ROWS])
    cp1251 = folder / "cp1251.csv"
    with cp1251.open("w", encoding="cp1251", newline="") as stream:
        csv.writer(stream, delimiter=";").writerows([HEADER, *ROWS])
    return {"utf8": utf8, "cp1251": cp1251}


def _soffice(files: list[Path], infilter: str | None, outdir: Path, profile: Path) -> None:
    command = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", EXPORT, "--outdir", str(outdir), *map(str, files)]
    subprocess.run(command, check=True, capture_output=True, timeout=SOFFICE_TIMEOUT)


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], list[list[str]]]:
    """(input, format) → the cells LibreOffice shows for the cleaned table."""
    if shutil.which("soffice") is None:
        pytest.fail("headless LibreOffice is missing: ./scripts/test installs libreoffice-calc-nogui")
    root = tmp_path_factory.mktemp("spreadsheet")
    made: dict[tuple[str, str], Path] = {}
    for name, path in _write_inputs(root).items():
        out = root / f"out-{name}"
        out.mkdir()
        result = process_csv(path, out, LIMITS)
        for fmt in OUTPUT_FORMATS:
            folder = root / f"{name}-{fmt}"
            folder.mkdir()
            with use_language("ru"):
                exported = export_results(result.cleaned_path, result.profile["column_profiles"], folder, fmt)
            renamed = root / f"{name}-{fmt}{exported.cleaned.suffix}"
            exported.cleaned.rename(renamed)
            made[(name, fmt)] = renamed
    converted = root / "converted"
    groups = {
        None: [p for (_, fmt), p in made.items() if fmt == "xlsx"],
        IMPORT[","]: [p for (_, fmt), p in made.items() if fmt == "csv"],
        IMPORT[";"]: [p for (_, fmt), p in made.items() if fmt == "csv_excel"],
    }
    profile = root / "lo-profile"
    for infilter, files in groups.items():
        _soffice(files, infilter, converted, profile)
    return {key: _read(converted / (path.stem + ".csv")) for key, path in made.items()}


def _documented_forms(value: str, fmt: str) -> set[str]:
    forms = {neutralise(value)}
    if fmt == "csv_excel" and value.replace("-", "", 1).replace(".", "", 1).isdigit():
        forms.add(value.replace(".", ","))  # the decimal comma of CSV for Excel
    if value.isdigit():
        forms.add(str(int(value)))  # a CSV cell 007 opens as the number 7 (README)
    return forms


@pytest.mark.parametrize("source", ["utf8", "cp1251"])
def test_xlsx_cells_show_exactly_what_the_user_wrote(
    shown: dict[tuple[str, str], list[list[str]]], source: str
) -> None:
    expected = [HEADER, *ROWS]
    actual = shown[(source, "xlsx")]
    # Numbers of number columns are numbers; LibreOffice shows them as written here (-12.5, 3.25).
    assert actual == expected


@pytest.mark.parametrize("fmt", ["csv", "csv_excel"])
@pytest.mark.parametrize("source", ["utf8", "cp1251"])
def test_csv_cells_show_what_was_written_or_its_documented_form(
    shown: dict[tuple[str, str], list[list[str]]], source: str, fmt: str
) -> None:
    actual = shown[(source, fmt)]
    assert actual[0] == HEADER
    assert len(actual) == len(ROWS) + 1
    for written_row, shown_row in zip(ROWS, actual[1:], strict=True):
        for written, cell in zip(written_row, shown_row, strict=True):
            assert cell in _documented_forms(written, fmt), (written, cell)


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
@pytest.mark.parametrize("source", ["utf8", "cp1251"])
def test_no_formula_is_evaluated_and_phone_numbers_come_through_alike(
    shown: dict[tuple[str, str], list[list[str]]], source: str, fmt: str
) -> None:
    rows = shown[(source, fmt)][1:]
    payloads = [row[2] for row in rows] + [rows[2][4]]
    assert "3" not in payloads and "1" not in payloads  # =1+2 and -1+2 were not computed
    assert all(any(c in cell for c in "=@+-") for cell in payloads)
    phones = [row[1] for row in rows[:3]]
    prefix = "" if fmt == "xlsx" else "'"
    assert phones == [prefix + "+79161234567", prefix + "+7 (495) 123-45-67", prefix + "+7"]
