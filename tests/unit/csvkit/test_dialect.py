"""Delimiter, header and width detection from the head of a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.csvkit import CsvLimits, process_csv
from service.csvkit.dialect import Dialect, sniff_dialect
from service.errors import TooManyColumnsError

from .fixtures import read_output, write_text


def _sniff(text: str, *, complete: bool = True, max_columns: int = 500) -> Dialect:
    return sniff_dialect(text, complete=complete, max_columns=max_columns, max_field_chars=100_000)


def test_comma_file_with_semicolons_in_text_is_comma_delimited() -> None:
    text = "id,comment\n1,a; b; c\n2,x;y\n3,plain\n"
    assert _sniff(text) == Dialect(delimiter=",", has_header=True, columns=2)


def test_delimiter_inside_quoted_values_does_not_mislead() -> None:
    text = 'a|b\n"x|y|z"|1\n"p|q"|2\n'
    assert _sniff(text) == Dialect(delimiter="|", has_header=True, columns=2)


def test_text_with_no_consistent_delimiter_is_one_column() -> None:
    text = "note\nhello, world\nplain\nsemi; colon\nanother line\n"
    assert _sniff(text) == Dialect(delimiter=None, has_header=True, columns=1)


def test_all_numeric_first_row_is_data_not_header() -> None:
    assert _sniff("1,2\n3,4\n5,6\n").has_header is False


def test_header_cell_repeated_as_a_value_means_no_header() -> None:
    assert _sniff("red,small\nblue,large\nred,large\n").has_header is False


def test_pandas_index_header_with_an_empty_first_cell_is_a_header() -> None:
    assert _sniff(",name,city\n0,Ann,Oslo\n1,Bob,Rome\n").has_header is True


def test_header_with_trailing_delimiter_does_not_add_a_column() -> None:
    assert _sniff("a,b,c,\n1,2,3\n4,5,6\n").columns == 3


def test_header_narrower_than_the_data_takes_the_data_width(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "t.csv", "a,b\n1,2,3\n4,5,6\n")

    result = process_csv(path, out_dir, CsvLimits())

    assert read_output(result.cleaned_path) == [["a", "b", "column_3"], ["1", "2", "3"], ["4", "5", "6"]]
    assert result.malformed_rows == 0


def test_truncated_sample_counts_columns_as_at_least() -> None:
    """No line break in the whole sample: the first record's width is only a lower bound."""
    with pytest.raises(TooManyColumnsError) as caught:
        _sniff(",".join(["c"] * 800), complete=False)
    assert caught.value.user_message == "This file has at least 800 columns; the limit is 500."


def test_only_the_complete_lines_of_a_partial_sample_are_judged() -> None:
    """A record cut off at the sample's end must not count as a ragged row."""
    text = "a;b;c\n1;2;3\n4;5;6\n7;8"
    assert _sniff(text, complete=False) == Dialect(delimiter=";", has_header=True, columns=3)
