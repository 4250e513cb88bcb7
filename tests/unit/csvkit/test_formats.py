"""What people really send: every encoding × delimiter, line endings, header or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.csvkit import CsvLimits, process_csv

from .fixtures import TABLES, encode_csv, read_output, write_csv, write_text

DELIMITERS = [",", ";", "\t", "|"]
# (codec used to write the file, table, codec csvkit must report)
ENCODINGS = [
    ("utf-8", "utf-8", "utf-8"),
    ("utf-8-sig", "utf-8", "utf-8-sig"),
    ("utf-16", "utf-8", "utf-16"),
    ("cp1251", "cp1251", "cp1251"),
    ("cp1252", "cp1252", "cp1252"),
]


@pytest.mark.parametrize("delimiter", DELIMITERS, ids=["comma", "semicolon", "tab", "pipe"])
@pytest.mark.parametrize(("codec", "table", "reported"), ENCODINGS, ids=[e[0] for e in ENCODINGS])
def test_every_encoding_and_delimiter_round_trips_to_utf8_comma_csv(
    in_dir: Path, out_dir: Path, codec: str, table: str, reported: str, delimiter: str
) -> None:
    """The cleaned file holds exactly the input's cells (quotes, delimiters, newlines inside)."""
    rows = TABLES[table]
    path = write_csv(in_dir / "t.csv", rows, encoding=codec, delimiter=delimiter)

    result = process_csv(path, out_dir, CsvLimits())

    assert (result.encoding, result.delimiter, result.has_header) == (reported, delimiter, True)
    assert read_output(result.cleaned_path) == rows
    assert result.cleaned_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert (result.rows_in, result.rows_out, result.columns) == (3, 3, 4)


def test_latin1_bytes_undefined_in_windows_1252_fall_back_to_latin1(in_dir: Path, out_dir: Path) -> None:
    """0x81 has no character in Windows-1252, so only Latin-1 can decode the file."""
    rows = [["name", "code"], ["Zoë", "\x81x"], ["Jürgen", "y"]]
    path = write_csv(in_dir / "t.csv", rows, encoding="latin-1")

    result = process_csv(path, out_dir, CsvLimits())

    assert result.encoding == "latin-1"
    assert read_output(result.cleaned_path) == rows


def test_ascii_file_with_one_cyrillic_word_at_the_end_is_windows_1251(in_dir: Path, out_dir: Path) -> None:
    """The encoding scan covers the whole file, not just a head sample."""
    rows = [["id", "city"]] + [[str(i), "Paris"] for i in range(60_000)] + [["x", "Москва"]]
    path = write_csv(in_dir / "t.csv", rows, encoding="cp1251")

    result = process_csv(path, out_dir, CsvLimits())

    assert result.encoding == "cp1251"
    assert read_output(result.cleaned_path)[-1] == ["x", "Москва"]


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_line_endings_do_not_change_the_rows(in_dir: Path, out_dir: Path, line_end: str) -> None:
    rows = TABLES["utf-8"]  # one cell holds a quoted line break
    # Written with CRLF first so that the writer quotes the cell with the line break.
    path = write_text(in_dir / "t.csv", encode_csv(rows).replace("\r\n", line_end))

    result = process_csv(path, out_dir, CsvLimits())

    assert read_output(result.cleaned_path) == rows


def test_quoted_fields_with_embedded_newlines_stay_one_cell(in_dir: Path, out_dir: Path) -> None:
    rows = [["id", "address"], ["1", "Main St 1\nApt 2\nSpringfield"], ["2", "x"]]
    path = write_csv(in_dir / "t.csv", rows)

    result = process_csv(path, out_dir, CsvLimits())

    assert read_output(result.cleaned_path) == rows
    assert (result.rows_in, result.malformed_rows) == (2, 0)


def test_file_without_header_is_detected_and_written_without_one(in_dir: Path, out_dir: Path) -> None:
    rows = [["1", "Ivan", "12.5", "2024-01-31"], ["2", "Petr", "-3", "2024-02-29"]]
    path = write_csv(in_dir / "t.csv", rows, delimiter=";")

    result = process_csv(path, out_dir, CsvLimits())

    assert result.has_header is False
    assert read_output(result.cleaned_path) == rows
    names = [c["name"] for c in result.profile["column_profiles"]]
    assert names == ["column_1", "column_2", "column_3", "column_4"]


def test_header_is_detected_when_columns_are_typed(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "t.csv", "id,price,when\n1,2.5,2024-01-01\n2,3,2024-01-02\n")

    result = process_csv(path, out_dir, CsvLimits())

    assert result.has_header is True
    assert [c["type"] for c in result.profile["column_profiles"]] == ["integer", "float", "date"]


def test_cells_are_trimmed_and_spaced_quoted_fields_are_read_as_quoted(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "t.csv", 'a , b\n  1 , "x, y"  \n2,  z\n')

    result = process_csv(path, out_dir, CsvLimits())

    assert read_output(result.cleaned_path) == [["a", "b"], ["1", "x, y"], ["2", "z"]]


def test_semicolon_file_with_decimal_commas_is_split_on_semicolons(in_dir: Path, out_dir: Path) -> None:
    """Russian Excel: `;` between fields, `,` inside numbers; the numbers are floats."""
    text = encode_csv([["товар", "цена"], ["хлеб", "45,50"], ["молоко", "89,9"]], ";")
    path = write_text(in_dir / "t.csv", text, "cp1251")

    result = process_csv(path, out_dir, CsvLimits())

    assert result.delimiter == ";"
    price = result.profile["column_profiles"][1]
    assert (price["type"], price["min"], price["max"]) == ("float", 45.5, 89.9)
    assert read_output(result.cleaned_path)[1] == ["хлеб", "45,50"]
