"""Formula neutralisation (OWASP CSV injection): triggers are prefixed, negative numbers are not."""

from __future__ import annotations

import pytest

from service.csvkit.sanitize import neutralise, neutralise_all


@pytest.mark.parametrize(
    "cell",
    [
        "=1+2",
        "+SUM(A1)",
        "-1+2",
        "@cmd",
        "\t=x",
        "\rx",
        "-",
        "=",
        "--5",
        # Phone numbers, one way: a leading + is always text.
        "+7 (495) 123-45-67",
        "+79161234567",
        "+7",
        "+1e5",
        # Leading apostrophes do not hide a trigger (and keep the rule reversible).
        "'=x",
        "''+7",
    ],
)
def test_cells_starting_with_a_trigger_get_a_quote_prefix(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-12.5", "-0", "-.5", "-1e5", "-3,5", "12", "", "a=b", "'x", "8 (495) 1"])
def test_negative_numbers_and_harmless_cells_are_unchanged(cell: str) -> None:
    assert neutralise(cell) == cell


def test_one_search_decides_exactly_when_a_row_or_column_needs_changes() -> None:
    """The fast pre-check must agree with the per-cell rule, or formulas would slip through."""
    groups = [
        ["-12.5", "-7", "x"],
        ["-12.5", "+7", "x"],
        ["'=x", "a"],
        ["a", "=1"],
        ["-1e3", "@a"],
        ["b", "-"],
        ["c", "-2,5"],
        ["", "1"],
        ["=first"],
        ["x", "\t=x"],
    ]
    for values in groups:
        expected = [neutralise(value) for value in values]
        safe, changed = neutralise_all(values)
        if expected == values:
            assert (safe, changed) == (None, 0), values
        else:
            assert safe == expected, values
            assert changed == sum(a != b for a, b in zip(values, expected)), values


def test_neutralise_all_counts_the_cells_it_changed() -> None:
    assert neutralise_all(["=a", "-1", "@b", "c"]) == (["'=a", "-1", "'@b", "c"], 2)


@pytest.mark.parametrize(
    "cell", ["=1+2", "+79161234567", "'=x", "''@y", "-12.5", "'", "'abc", "", "plain", "-", "\t=x"]
)
def test_restore_gives_back_exactly_what_the_user_wrote(cell: str) -> None:
    from service.csvkit.sanitize import restore

    assert restore(neutralise(cell)) == cell


def test_neutralise_all_gives_none_only_when_nothing_changed() -> None:
    values = ["-1", "''+7", "x"]
    assert neutralise_all(values) == neutralise_all(tuple(values)) == (["-1", "'''+7", "x"], 1)
    assert neutralise_all(["-1", "x"]) == (None, 0)
