"""Bad input: each case ends in a typed error with a specific message, or a defined cleanup.

Every test also checks the output directory: a rejected file leaves nothing behind, an
accepted one leaves exactly the two outputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.csvkit import CsvLimits, CsvResult, process_csv
from service.errors import (
    EmptyFileError,
    EncodingError,
    FieldTooLongError,
    FileTooLargeError,
    InputError,
    MalformedCsvError,
    NotCsvError,
    TooManyColumnsError,
    TooManyRowsError,
)

from . import fixtures
from .fixtures import read_output, write_text


def _rejects(
    path: Path,
    out_dir: Path,
    error: type[InputError],
    kind: str,
    limits: CsvLimits | None = None,
) -> InputError:
    """Processing fails with ``error`` of the published ``kind`` and leaves no output."""
    with pytest.raises(error) as caught:
        process_csv(path, out_dir, limits or CsvLimits())
    assert caught.value.kind == kind
    assert list(out_dir.iterdir()) == [], "a rejected file must leave no output behind"
    return caught.value


def _accepts(path: Path, out_dir: Path, limits: CsvLimits | None = None) -> CsvResult:
    """Processing succeeds and leaves exactly the cleaned and the profile file."""
    result = process_csv(path, out_dir, limits or CsvLimits())
    assert sorted(out_dir.iterdir()) == sorted([result.cleaned_path, result.profile_path])
    return result


def test_png_image_is_not_csv(in_dir: Path, out_dir: Path) -> None:
    error = _rejects(fixtures.png_file(in_dir), out_dir, NotCsvError, "not_csv")
    assert "PNG image" in error.user_message


def test_excel_workbook_is_not_csv_and_the_message_says_so(in_dir: Path, out_dir: Path) -> None:
    error = _rejects(fixtures.xlsx_file(in_dir), out_dir, NotCsvError, "not_csv")
    assert "Excel workbook" in error.user_message


def test_random_binary_data_is_not_csv(in_dir: Path, out_dir: Path) -> None:
    error = _rejects(fixtures.binary_file(in_dir), out_dir, NotCsvError, "not_csv")
    assert "binary data" in error.user_message


def test_binary_data_without_nul_bytes_is_caught_by_its_control_characters(
    in_dir: Path, out_dir: Path
) -> None:
    noise = bytes(b for b in fixtures.binary_file(in_dir).read_bytes() if b)
    path = in_dir / "noise2.csv"
    path.write_bytes(noise)
    error = _rejects(path, out_dir, NotCsvError, "not_csv")
    assert "binary data" in error.user_message


def test_nul_bytes_are_rejected_with_the_line_they_are_on(in_dir: Path, out_dir: Path) -> None:
    error = _rejects(fixtures.nul_bytes_file(in_dir), out_dir, NotCsvError, "not_csv")
    assert "NUL bytes (first on line 3)" in error.user_message


def test_html_and_json_documents_are_not_csv(in_dir: Path, out_dir: Path) -> None:
    html = write_text(in_dir / "page.csv", "<!DOCTYPE html>\n<html><body>a,b</body></html>\n")
    json = write_text(in_dir / "data.csv", '[{"a": 1, "b": 2}]\n')
    assert "HTML" in _rejects(html, out_dir, NotCsvError, "not_csv").user_message
    assert "JSON" in _rejects(json, out_dir, NotCsvError, "not_csv").user_message


def test_empty_file_is_rejected(in_dir: Path, out_dir: Path) -> None:
    error = _rejects(fixtures.empty_file(in_dir), out_dir, EmptyFileError, "empty_file")
    assert "0 bytes" in error.user_message


def test_file_of_blank_lines_is_rejected_as_empty(in_dir: Path, out_dir: Path) -> None:
    _rejects(fixtures.whitespace_file(in_dir), out_dir, EmptyFileError, "empty_file")


def test_header_without_data_rows_is_rejected_as_empty(in_dir: Path, out_dir: Path) -> None:
    error = _rejects(write_text(in_dir / "h.csv", "name,email\n"), out_dir, EmptyFileError, "empty_file")
    assert "no data rows" in error.user_message


def test_file_over_the_size_limit_is_rejected_with_both_sizes(in_dir: Path, out_dir: Path) -> None:
    limits = CsvLimits(max_bytes=1024 * 1024)
    error = _rejects(
        fixtures.oversized_file(in_dir, 3 * 1024 * 1024), out_dir, FileTooLargeError, "too_large", limits
    )
    assert error.user_message.startswith("This file is 3.0 MB; the limit is 1 MB.")


def test_file_just_over_the_size_limit_names_exact_byte_counts(in_dir: Path, out_dir: Path) -> None:
    limits = CsvLimits(max_bytes=1024 * 1024)
    path = fixtures.oversized_file(in_dir, 1024 * 1024)
    error = _rejects(path, out_dir, FileTooLargeError, "too_large", limits)
    size = path.stat().st_size
    assert f"This file is {size:,} bytes; the limit is 1,048,576 bytes (1 MB)." in error.user_message


def test_ten_thousand_columns_exceed_the_column_limit(in_dir: Path, out_dir: Path) -> None:
    error = _rejects(fixtures.wide_file(in_dir), out_dir, TooManyColumnsError, "too_many_columns")
    assert error.user_message == "This file has 10,000 columns; the limit is 500."


def _table_then(in_dir: Path, row: str, *, name: str = "late.csv") -> Path:
    """600 ordinary rows, past the head the dialect is sniffed from, then ``row`` on line 602."""
    body = "".join(f"{i},name{i},{i * 2}\n" for i in range(600))
    return write_text(in_dir / name, f"id,name,value\n{body}{row}\n")


@pytest.mark.parametrize(
    "row",
    [
        ",".join(str(i) for i in range(100_000)),  # one late row of many values
        "," * 200_000,  # one late row of empty cells
        "1,2," + ",".join(f'"{i}"' for i in range(600)),  # quoted cells count too
    ],
    ids=["values", "empty_cells", "quoted"],
)
def test_a_wide_row_after_the_sniffed_head_exceeds_the_column_limit(
    in_dir: Path, out_dir: Path, row: str
) -> None:
    error = _rejects(_table_then(in_dir, row), out_dir, TooManyColumnsError, "too_many_columns")
    assert error.user_message == (
        "The row on line 602 has more than 500 fields; the limit is 500 columns. "
        "Check that row's delimiters and quotes."
    )


def test_delimiters_inside_quotes_do_not_count_as_fields(in_dir: Path, out_dir: Path) -> None:
    """A long quoted text with 2,000 commas is one cell, not 2,000 fields."""
    text = ", ".join(f"word{i}" for i in range(2_000))
    result = _accepts(_table_then(in_dir, f'600,"{text}",1'), out_dir)
    assert read_output(result.cleaned_path)[-1] == ["600", text, "1"]


def test_a_wide_row_inside_a_multiline_record_is_caught(in_dir: Path, out_dir: Path) -> None:
    row = '600,"two\nlines",' + "," * 1_000
    error = _rejects(_table_then(in_dir, row), out_dir, TooManyColumnsError, "too_many_columns")
    assert "line 602" in error.user_message


def test_too_many_rows_stops_the_job_and_removes_partial_outputs(in_dir: Path, out_dir: Path) -> None:
    """The limit is hit mid-stream, after output files were opened: none may remain."""
    path = fixtures.generated_table(in_dir, 200_000)
    error = _rejects(path, out_dir, TooManyRowsError, "too_many_rows", CsvLimits(max_rows=1_000))
    assert error.user_message.startswith("This file has more than 1,000 rows; the limit is 1,000.")


def test_one_megabyte_field_exceeds_the_field_limit(in_dir: Path, out_dir: Path) -> None:
    error = _rejects(fixtures.huge_field_file(in_dir), out_dir, FieldTooLongError, "field_too_long")
    assert "starting on line 2 is longer than 100,000 characters" in error.user_message


def test_field_between_our_limit_and_the_parsers_is_measured_exactly(in_dir: Path, out_dir: Path) -> None:
    path = fixtures.huge_field_file(in_dir, chars=120_000)
    error = _rejects(path, out_dir, FieldTooLongError, "field_too_long")
    assert error.user_message == "A cell on line 2 has 120,000 characters; the limit is 100,000."


def test_field_limit_above_the_parser_default_is_honoured(in_dir: Path, out_dir: Path) -> None:
    """A 200,000-character cell passes with a 300,000 limit, though csv's default is 131,072."""
    path = fixtures.huge_field_file(in_dir, chars=200_000)
    result = _accepts(path, out_dir, CsvLimits(max_field_chars=300_000))
    assert len(read_output(result.cleaned_path)[1][1]) == 200_000


def test_unclosed_quote_swallowing_more_than_a_cell_still_costs_one_row(in_dir: Path, out_dir: Path) -> None:
    """10,000 rows after a stray quote are more than a cell may hold: they are re-read as rows."""
    path = fixtures.unclosed_quote_swallowing_file(in_dir, rows=10_000)

    result = _accepts(path, out_dir)

    rows = read_output(result.cleaned_path)
    assert rows[:3] == [["id", "comment"], ["0", '"oops'], ["0", "row number 0"]]
    assert len(rows) == 1 + 1 + 10_000
    assert result.profile["malformed"]["unclosed_quote"] == 1
    assert result.profile["malformed"]["first_lines"] == [2]


def test_overlong_multiline_text_cell_is_too_long(in_dir: Path, out_dir: Path) -> None:
    """Free text over the limit has irregular lines: it is a long cell, not swallowed rows."""
    prose = "".join(f"paragraph {i}: {'word, ' * (i % 3)}more\n" for i in range(5_000))
    path = write_text(in_dir / "t.csv", f'id,text\n1,"{prose}"\n')
    error = _rejects(path, out_dir, FieldTooLongError, "field_too_long")
    assert "line 2" in error.user_message
    assert "100,000" in error.user_message


def test_file_whose_rows_mostly_stop_fitting_is_malformed(in_dir: Path, out_dir: Path) -> None:
    """A file that changes shape after its head (concatenated exports): no table to clean."""
    good = "".join(f"{i},name{i},{i * 2}\n" for i in range(600))
    bad = "".join(f"{i},name{i},{i * 2},extra{i}\n" for i in range(700))
    path = write_text(in_dir / "t.csv", "id,name,value\n" + good + bad)

    error = _rejects(path, out_dir, MalformedCsvError, "malformed_csv")

    assert error.user_message.startswith(
        "Most rows don't fit the table: 700 of 1,300 have a different number of fields"
    )
    assert "lines 602, 603, 604, 605, 606" in error.user_message


def test_mixed_encodings_are_rejected_with_the_first_bad_line(in_dir: Path, out_dir: Path) -> None:
    data = "name,city\nИван,Москва\nПётр,Казань\n".encode() + "Анна,Омск\n".encode("cp1251")
    path = in_dir / "mixed.csv"
    path.write_bytes(data)
    error = _rejects(path, out_dir, EncodingError, "bad_encoding")
    assert "line 4" in error.user_message and "mixes text encodings" in error.user_message


def test_utf8_byte_order_mark_with_invalid_utf8_is_an_encoding_error(in_dir: Path, out_dir: Path) -> None:
    path = in_dir / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,\xff\n")
    error = _rejects(path, out_dir, EncodingError, "bad_encoding")
    assert "says it is UTF-8, but line 2" in error.user_message


def test_one_column_file_is_profiled_as_one_column(in_dir: Path, out_dir: Path) -> None:
    result = _accepts(fixtures.one_column_file(in_dir), out_dir)

    assert (result.columns, result.delimiter, result.has_header) == (1, None, True)
    assert (result.rows_in, result.rows_out) == (20, 20)
    assert read_output(result.cleaned_path)[:2] == [["email"], ["user0@example.com"]]
    assert result.cleaned_path.name == "emails_cleaned.csv"


def test_one_column_values_containing_commas_are_not_split(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "names.csv", "name\nAda Lovelace\nSmith, John\nAlan Turing\nGrace Hopper\n")

    result = _accepts(path, out_dir)

    assert result.columns == 1
    assert ["Smith, John"] in read_output(result.cleaned_path)


def test_ragged_rows_are_padded_or_dropped_and_reported_by_line(in_dir: Path, out_dir: Path) -> None:
    result = _accepts(fixtures.ragged_file(in_dir), out_dir)

    assert read_output(result.cleaned_path) == [
        ["a", "b", "c"],
        ["1", "2", "3"],
        ["4", "5", ""],  # short: padded
        ["6", "7", "8"],
        # line 5 (9,10,11,12) had a non-empty extra field: dropped
        ["13", "14", "15"],  # extra fields all empty: cut back, not malformed
    ]
    malformed = result.profile["malformed"]
    assert (malformed["rows"], malformed["first_lines"]) == (2, [3, 5])
    assert (malformed["short_rows_padded"], malformed["long_rows_dropped"]) == (1, 1)
    assert result.malformed_rows == 2
    assert "lines 3, 5" in result.summary_text


def test_unclosed_quote_costs_one_row_not_the_rest_of_the_file(in_dir: Path, out_dir: Path) -> None:
    result = _accepts(fixtures.unclosed_quote_file(in_dir), out_dir)

    assert read_output(result.cleaned_path) == [
        ["id", "comment"],
        ["1", "fine"],
        ["2", '"broken'],
        ["3", "after"],
        ["4", "quoted, ok"],
    ]
    malformed = result.profile["malformed"]
    assert (malformed["unclosed_quote"], malformed["first_lines"]) == (1, [3])


def test_broken_quoting_is_reported_and_the_row_kept(in_dir: Path, out_dir: Path) -> None:
    result = _accepts(fixtures.broken_quoting_file(in_dir), out_dir)

    assert read_output(result.cleaned_path) == [["id", "comment"], ["1", "fine"], ["2", "abcd"], ["3", "ok"]]
    malformed = result.profile["malformed"]
    assert (malformed["broken_quoting"], malformed["first_lines"]) == (1, [3])


def test_formula_injection_payloads_are_neutralised_but_negative_numbers_are_not(
    in_dir: Path, out_dir: Path
) -> None:
    result = _accepts(fixtures.formula_file(in_dir), out_dir)

    rows = read_output(result.cleaned_path)
    payloads = [row[1] for row in rows[1:]]
    assert payloads == [
        '\'=HYPERLINK("http://evil.example","click")',
        "'+SUM(1,2)",
        "'-2+3+cmd|' /C calc'!A0",
        "'@SUM(A1:A2)",
        "'=1+1",  # the leading tab was trimmed; the formula behind it is still caught
        "'=1+1",
        "plain",
    ]
    # A negative number stays a number; a leading + is always text (phone numbers alike).
    assert [row[2] for row in rows[1:]] == ["-12.5"] * 6 + ["'+7"]
    assert result.profile["formula_cells_neutralised"] == 7
