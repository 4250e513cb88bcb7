"""The result message's lines about the table: the most common value of a column and the
formula-like cells, named by column, in the words of the user's output format."""

from __future__ import annotations

from typing import Any

from service.i18n import use_language
from service.results.summary import column_line, overview


def _column(**overrides: Any) -> dict[str, Any]:
    column = {
        "position": 1, "name": "city", "type": "string", "values": 10, "null_share": 0.0,
        "distinct": 3, "distinct_is_exact": True, "min": None, "max": None,
        "samples": ["Omsk"], "top": "Tver", "top_count": 6, "formula_cells": 0,
    }  # fmt: skip
    return {**column, **overrides}


def test_a_repeated_value_is_shown_with_its_count_instead_of_an_example() -> None:
    assert column_line(_column()).endswith("Tver ×6")
    assert column_line(_column(top_count=1)).endswith("Omsk"), "nothing repeats: an example"
    assert column_line(_column(top=None, top_count=None)).endswith("Omsk")


def test_the_formula_line_names_the_columns_and_says_what_the_format_did() -> None:
    columns = [
        _column(name="phone", formula_cells=3),
        _column(position=2, name="n", formula_cells=0),
        _column(position=3, name="note", formula_cells=1),
    ]
    summary = {"rows_out": 5, "columns": 3, "formula_cells_neutralised": 4, "column_profiles": columns}

    assert "4 formula-like cells start with ' (phone 3, note 1)" in overview(summary)
    as_xlsx = overview({**summary, "output_format": "xlsx"})
    assert "4 formula-like cells kept as text (phone 3, note 1)" in as_xlsx
    assert "start with '" not in as_xlsx, "an XLSX text cell has no apostrophe to speak of"
    with use_language("ru"):
        assert "4 ячейки, похожие на формулы, начинаются с ' (phone 3, note 1)" in overview(summary)
