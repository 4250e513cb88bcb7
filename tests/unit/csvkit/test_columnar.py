"""The columnar pieces agree with the per-value Python they replace, on adversarial inputs."""

from __future__ import annotations

import csv
import io
import random
import sys

import polars as pl
import pytest

from service.csvkit.clean import WHITESPACE
from service.csvkit.infer import NULL_TOKENS, Kind, KindMatcher, is_null, join_column, null_expr
from service.csvkit.outputs import OUTPUT_LINE_TERMINATOR, csv_writer
from service.csvkit.sanitize import needs_neutralising_expr, neutralise, neutralised_expr

# Characters that trip parsers, writers, trimming and case folding.
ALPHABET = [
    *"ab1,;\"' =+-@.eE0\t\r\n",
    "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000",
    "ж", "Ж", "K", "\u212a", "İ", "ſ",
]  # fmt: skip


def _cells(seed: int, count: int, max_len: int = 6) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(max_len + 1))) for _ in range(count)]


def test_whitespace_is_exactly_what_str_strip_strips() -> None:
    assert set(WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).strip() == ""} - {""}
    cells = _cells(1, 50_000)
    assert pl.Series(cells).str.strip_chars(WHITESPACE).to_list() == [cell.strip() for cell in cells]


def test_polars_writes_the_bytes_the_csv_module_writes() -> None:
    """Empty cells as nulls (the pass writes them so), everything else as is."""
    cells = _cells(2, 60_000)
    rows = [cells[i : i + 3] for i in range(0, len(cells), 3)]
    rows = [row for row in rows if any(row)]  # the pass never writes an all-empty row
    expected = io.StringIO()
    csv_writer(expected).writerows(rows)
    frame = pl.DataFrame(
        {f"c{i}": [row[i] or None for row in rows] for i in range(3)},
        schema=dict.fromkeys(["c0", "c1", "c2"], pl.String),
    )
    got = io.BytesIO()
    frame.write_csv(
        got, include_header=False, line_terminator=OUTPUT_LINE_TERMINATOR, quote_style="necessary"
    )
    assert got.getvalue().decode() == expected.getvalue()


def test_polars_parses_numbers_as_int_and_float_do() -> None:
    rng = random.Random(3)
    floats = [f"{rng.uniform(-1e6, 1e6):.{rng.randrange(20)}f}" for _ in range(20_000)]
    floats += [f"{rng.random():.{rng.randrange(1, 25)}f}e{rng.randrange(-330, 310)}" for _ in range(20_000)]
    floats += ["+.5", "5.", "-.5e3", "1e400", "-1e-400", "-0.0", "0", "2.2250738585072011e-308"]
    assert pl.Series(floats).cast(pl.Float64).to_list() == list(map(float, floats))
    assert [str(x) for x in pl.Series(floats).cast(pl.Float64).to_list()] == [str(float(x)) for x in floats]
    ints = ["+5", "-0", "007", "-9223372036854775808", "9223372036854775807"]
    assert pl.Series(ints).cast(pl.Int64).to_list() == list(map(int, ints))


def test_only_the_kelvin_sign_lowers_to_ascii_so_null_tokens_are_ascii_spellings() -> None:
    lowers_to_ascii = {
        chr(c)
        for c in range(128, sys.maxunicode + 1)
        if chr(c).lower().isascii() and chr(c).lower() != chr(c)
    }
    assert lowers_to_ascii == {"\u212a"}
    assert not any("k" in token for token in NULL_TOKENS)


@pytest.mark.parametrize("seed", range(4))
def test_column_null_check_matches_is_null(seed: int) -> None:
    tokens = ["", "NULL", "nUlL", "N/A", "#n/a", "nil", "NaN", "na", "none", "nulls", "n/a ", "\u212aa"]
    rng = random.Random(seed)
    for _ in range(300):
        column = [rng.choice([*tokens, "x", "1", "null1"]) for _ in range(rng.randrange(1, 6))]
        polars_nulls = pl.DataFrame({"v": column}).select(null_expr(pl.col("v"))).to_series()
        assert polars_nulls.any() == any(map(is_null, column)), column
        assert polars_nulls.to_list() == list(map(is_null, column))


@pytest.mark.parametrize("decimal_comma", [False, True])
def test_joined_kind_checks_match_per_value_checks(decimal_comma: bool) -> None:
    matcher = KindMatcher(decimal_comma=decimal_comma)
    samples = [
        "1", "-2", "+3", "1.5", "1,5", ".5", "1e3", "true", "FALSE", "да", "НЕТ", "2024-01-31",
        "31.01.2024", "01/31/2024", "2024-01-31 10:00", "2024-01-31T10:00:05Z", "x", "1 2", "ſ", "tRuE",
    ]  # fmt: skip
    rng = random.Random(5)
    for _ in range(2_000):
        values = [rng.choice(samples) for _ in range(rng.randrange(1, 5))]
        current = rng.choice([None, Kind.INTEGER, Kind.DATE, Kind.BOOLEAN, Kind.FLOAT])
        expected = next(
            (
                kind
                for kind in _candidates(current)
                if all(matcher.kind_of(v) in _accepted(kind) for v in values)
            ),
            Kind.STRING,
        )
        assert matcher.widen_joined(current, values[0], join_column(values)) == expected, (current, values)


def _candidates(current: Kind | None) -> tuple[Kind, ...]:
    from service.csvkit.infer import _WIDENINGS

    return _WIDENINGS[current]


def _accepted(kind: Kind) -> set[Kind]:
    """The kinds whose values ``kind``'s pattern accepts too (the lattice)."""
    below = {
        Kind.BOOLEAN: {Kind.BOOLEAN},
        Kind.INTEGER: {Kind.INTEGER},
        Kind.FLOAT: {Kind.INTEGER, Kind.FLOAT},
        Kind.DATE: {Kind.DATE},
        Kind.DATETIME: {Kind.DATE, Kind.DATETIME},
    }
    return below[kind]


def test_polars_neutralisation_matches_per_cell() -> None:
    cells = [cell for cell in _cells(6, 40_000) if cell]
    for start in range(0, len(cells), 7):
        column = cells[start : start + 7]
        frame = pl.DataFrame({"v": column})
        safe = frame.select(neutralised_expr(pl.col("v"))).to_series().to_list()
        changed = frame.select(needs_neutralising_expr(pl.col("v")).sum()).item()
        per_cell = [neutralise(cell) for cell in column]
        assert safe == per_cell
        assert changed == sum(1 for a, b in zip(column, per_cell, strict=True) if a != b)


def test_csv_module_reads_what_polars_wrote() -> None:
    """Round trip through the real reader, as users' tools read the cleaned file."""
    cells = [cell for cell in _cells(7, 3_000) if cell]
    frame = pl.DataFrame({"c0": cells})
    buffer = io.BytesIO()
    frame.write_csv(
        buffer, include_header=False, line_terminator=OUTPUT_LINE_TERMINATOR, quote_style="necessary"
    )
    rows = list(csv.reader(io.StringIO(buffer.getvalue().decode(), newline="")))
    assert [row[0] for row in rows] == cells
