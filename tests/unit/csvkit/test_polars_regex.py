"""The polars restatements of csvkit's regexes accept exactly what Python's ``re`` accepts."""

from __future__ import annotations

import random
import re
import sys

import polars as pl
import pytest

from service.csvkit import infer
from service.csvkit.infer import NULL_TOKENS, Kind, KindMatcher, is_null, null_expr
from service.csvkit.polars_regex import fullmatch_pattern
from service.csvkit.sanitize import (
    may_need_neutralising_expr,
    needs_neutralising_expr,
    neutralise,
    neutralised_expr,
)

# Digits of other scripts (Python's re.ASCII and Rust's [0-9] must both refuse them), case
# pairs whose folding differs between engines in places, separators and line breaks.
ALPHABET = [
    *"0123456789+-.,eE:/ TZ'=@\t\r\n", "١", "٣", "０", "²", "ſ", "K", "İ", "ı",
    *"truefalsyno", *"TRUEFALSYNO", *"данетистиналожь", *"ДАНЕТИСТИНАЛОЖЬ",
]  # fmt: skip


def _values(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(12))) for _ in range(count)]


SAMPLES = [
    "1", "-2", "+3", "1.5", "1,5", ".5", "1e3", "-1e-5", "true", "FALSE", "да", "НЕТ", "Истина", "ЛОЖЬ",
    "2024-01-31", "31.01.2024", "01/31/2024", "2024-01-31 10:00", "2024-01-31T10:00:05.123+03:00",
    "2024-1-3T9:05Z", "x", "1 2", "ſ", "tRuE", "yeſ", "1\n", "\n1", "٣", "1" * 100, "1" * 101,
]  # fmt: skip


@pytest.mark.parametrize("decimal_comma", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_kind_patterns_agree_with_python(decimal_comma: bool, seed: int) -> None:
    matcher = KindMatcher(decimal_comma=decimal_comma)
    values = SAMPLES + _values(seed, 30_000)
    column = pl.DataFrame({"v": values})
    for kind in (Kind.BOOLEAN, Kind.INTEGER, Kind.FLOAT, Kind.DATE, Kind.DATETIME):
        pattern = matcher._patterns[kind]
        got = column.select(matcher.accepts_expr(kind, pl.col("v"))).to_series().to_list()
        assert got == [pattern.fullmatch(value) is not None for value in values], kind


def test_case_insensitive_letters_fold_alike_in_both_engines() -> None:
    """Every character either engine folds onto a letter of a boolean word, over all Unicode."""
    everything = [chr(code) for code in range(1, sys.maxunicode + 1) if not 0xD800 <= code < 0xE000]
    column = pl.Series(everything)
    for letter in sorted(set("truefalseyesnoданетистиналожь")):
        pattern = re.compile(re.escape(letter), re.IGNORECASE)
        python = {char for char in everything if pattern.fullmatch(char)}
        polars = set(column.filter(column.str.contains(fullmatch_pattern(pattern))).to_list())
        assert polars == python, letter


def test_null_check_agrees_with_is_null() -> None:
    tokens = [*NULL_TOKENS, "NULL", "nUlL", "N/A", "#N/A", "Nil", "NaN", "nulls", "n/a ", "\u212aa", "ıl"]
    values = (
        tokens + _values(4, 20_000) + ["".join(random.Random(i).sample("nulao/#", 4)) for i in range(999)]
    )
    got = pl.DataFrame({"v": values}).select(null_expr(pl.col("v"))).to_series().to_list()
    assert got == list(map(is_null, values))
    assert infer._NULL_VALUE.pattern.count("|") == len(NULL_TOKENS) - 1


@pytest.mark.parametrize("seed", range(3))
def test_neutralisation_agrees_with_neutralise(seed: int) -> None:
    values = ["-1", "-1.5", "-,5", "-1e5", "-1e", "'-1", "''=a", "=1+2", "@x", "+7", "\t1", "\r", "-", "a=b"]
    values += _values(10 + seed, 30_000)
    frame = pl.DataFrame({"v": values})
    needs = frame.select(needs_neutralising_expr(pl.col("v"))).to_series().to_list()
    safe = frame.select(neutralised_expr(pl.col("v"))).to_series().to_list()
    assert safe == [neutralise(value) for value in values]
    assert needs == [neutralise(value) != value for value in values]


def test_every_value_that_needs_neutralising_is_a_candidate() -> None:
    """The first-byte test may only rule out values neutralise() leaves alone: every first
    character, ASCII and not, before a trigger, a digit, a letter or nothing."""
    firsts = [chr(code) for code in range(1, 0x250)] + ["\u2212", "\uff1d", "\U0001f600"]
    values = [first + rest for first in firsts for rest in ("", "1", "=1", "-1", "'=", "x")]
    values += ["-1", "-1.5", "-,5", "-1e5", "-1e", "'-1", "''=a", "=1+2", "@x", "+7", "\t1", "\r", "-", ""]
    values += _values(21, 20_000)
    frame = pl.DataFrame({"v": values})
    candidate = frame.select(may_need_neutralising_expr(pl.col("v"))).to_series().to_list()
    needs = [neutralise(value) != value for value in values]
    assert not [value for value, c, n in zip(values, candidate, needs, strict=True) if n and not c]
    assert sum(candidate) < len(values) / 2  # and it does rule most values out
