"""The chat summary: plain text, a few lines, under 1,000 characters whatever the file."""

from __future__ import annotations

from pathlib import Path

from service.csvkit import CsvLimits, process_csv
from service.csvkit.summary import MAX_SUMMARY_CHARS

from .fixtures import write_csv, write_text


def test_summary_states_shape_cleaning_and_columns(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "t.csv", "id;price;note\n1;2,5;=x\n1;2,5;=x\n2;3;y\n3\n")

    text = process_csv(path, out_dir, CsvLimits()).summary_text

    assert text.splitlines() == [
        "4 rows × 3 columns (utf-8, semicolon, with a header row).",
        "Cleaned file: 3 rows; removed 1 duplicate row.",
        "1 malformed row (line 5): 1 short (padded).",
        "Formula-like cells prefixed with ' so that spreadsheets show them as text: 1.",
        "Columns:",
        "1. id: integer, 0% empty, 3 distinct, 1 to 3, mean 2",
        "2. price: float, 33% empty, 2 distinct, 2.50 to 3, mean 2.75",
        "3. note: string, 33% empty, 2 distinct",
    ]


def test_summary_of_a_500_column_file_stays_under_the_limit(in_dir: Path, out_dir: Path) -> None:
    header = [f"a very long column name number {i} that goes on" for i in range(500)]
    path = write_csv(in_dir / "t.csv", [header, [str(i) for i in range(500)], ["x"] * 500])

    text = process_csv(path, out_dir, CsvLimits()).summary_text

    assert len(text) <= MAX_SUMMARY_CHARS
    assert text.endswith("more columns in the profile file.")


def test_column_names_with_line_breaks_stay_on_one_line(in_dir: Path, out_dir: Path) -> None:
    path = write_csv(in_dir / "t.csv", [["first\nname", "b"], ["x", "1"], ["y", "2"]])

    text = process_csv(path, out_dir, CsvLimits()).summary_text

    assert "1. first name: string, 0% empty, 2 distinct" in text.splitlines()
