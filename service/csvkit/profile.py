"""Per-column statistics, computed over the cleaned rows in batches.

A batch arrives as a polars frame: the null counts and kind checks of all its columns are one
polars call (Rust regexes, :mod:`.polars_regex`), then null filtering, number parsing,
distinct counting and samples run in polars column by column, instead of a Python call per
cell; that is what makes profiling cheap next to parsing.

The profile describes the cleaned table (after trimming, padding and removing duplicates):
what the user downloads is what the numbers are about. Values are judged before formula
neutralisation, so ``-12.5`` is a number and ``=1+2`` a string either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from .distinct import DistinctCounter
from .infer import NUMERIC_KINDS, Kind, KindMatcher, candidate_kinds, null_count_expr, null_expr

SAMPLE_VALUES = 3
#: The most common value is counted exactly while a column has at most this many distinct
#: values (a category, a status, a city); past it the tally is dropped, since in a column of
#: mostly unique values "most common" says nothing, and an exact count would cost memory.
TOP_DISTINCT_LIMIT = 1_000
# Sample values are for eyes, not for analysis: long ones are cut.
SAMPLE_MAX_CHARS = 60


#: Polars work deferred to one ``collect_all`` per batch, and what takes its result.
Pending = tuple[pl.LazyFrame, Callable[[pl.DataFrame], None]]


def _number(value: float) -> float | int | None:
    """A JSON-safe number: an overflowing float (``1e400``) becomes None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class ColumnProfile:
    __slots__ = (
        "_decimal_comma",
        "_distinct",
        "_matcher",
        "_maximum",
        "_minimum",
        "_numbers",
        "_samples",
        "_top",
        "_total",
        "formula_cells",
        "kind",
        "name",
        "nulls",
        "position",
        "values",
    )

    def __init__(
        self, position: int, name: str, matcher: KindMatcher, *, columns: int, decimal_comma: bool
    ) -> None:
        self.position = position
        self.name = name
        self.kind: Kind | None = None  # None until a non-null value arrives
        self.values = 0
        self.nulls = 0
        self._matcher = matcher
        self._decimal_comma = decimal_comma
        self._distinct = DistinctCounter(columns=columns)
        self._samples: list[str] = []
        self._numbers = 0
        self._minimum: float | int | None = None
        self._maximum: float | int | None = None
        self._total: float | int = 0
        self._top: dict[str, int] | None = {}
        #: Cells of this column that formula neutralisation changed (counted by the cleaner).
        self.formula_cells = 0

    def update(self, values: pl.Series, *, nulls: int, kind: Kind) -> list[Pending]:
        """Add a batch of this column's values, of which ``nulls`` are nulls and the rest all
        of ``kind`` (the narrowest at or above the column's kind so far: :meth:`kind_checks`).

        Returns the polars work still to run, each with what takes its result: the caller
        runs that of every column of the batch in one ``pl.collect_all`` call.
        """
        self.values += len(values)
        self.nulls += nulls
        if nulls == len(values):
            return []
        present = values
        if nulls:
            present = values.to_frame().filter(~null_expr(pl.col(values.name))).to_series()
        if kind in NUMERIC_KINDS:
            self._update_numbers(kind, present)
        self.kind = kind
        pending: list[Pending] = []
        batch = present.rename("value").to_frame().lazy()
        if self._top is not None or self._distinct.is_exact:
            # One count per distinct value serves both the top value and the exact count.
            pending.append((batch.group_by("value").len("n"), self._take_counts))
        else:
            pending.append((self._distinct.sketch_plan(present), self._distinct.take_sketch))
        if len(self._samples) < SAMPLE_VALUES:
            # Enough of the batch's distinct values, in order, to fill the samples even if the
            # first ones are samples already.
            pending.append((batch.unique(maintain_order=True).head(2 * SAMPLE_VALUES), self._take_samples))
        return pending

    def _take_counts(self, counts: pl.DataFrame) -> None:
        self._take_top(counts)
        if self._distinct.is_exact:
            self._distinct.add_counts(counts)
        else:  # the top value alone still counts; the sketch takes the values themselves
            self._distinct.add_all(counts.to_series(0))

    def _take_samples(self, firsts: pl.DataFrame) -> None:
        for value in firsts.to_series().to_list():
            if value not in self._samples:
                self._samples.append(value)
                if len(self._samples) == SAMPLE_VALUES:
                    break

    def kind_checks(self, column: pl.Expr) -> list[tuple[Kind, pl.Expr]]:
        """For each kind this column may widen to, narrowest first: an aggregate saying whether
        every non-null value of a batch has that kind."""
        is_null = null_expr(column)
        return [
            (kind, (is_null | self._matcher.accepts_expr(kind, column)).all())
            for kind in candidate_kinds(self.kind)
        ]

    def _take_top(self, counts: pl.DataFrame) -> None:
        """Add a batch's count per value (value, count) to the tally of the most common value."""
        if self._top is None:
            return
        if counts.height > TOP_DISTINCT_LIMIT:
            self._top = None
            return
        for value, n in zip(counts.to_series(0).to_list(), counts.to_series(1).to_list(), strict=True):
            self._top[value] = self._top.get(value, 0) + n
        if len(self._top) > TOP_DISTINCT_LIMIT:
            self._top = None

    def _most_common(self) -> tuple[str, int] | None:
        """The most common value and its count; ties go to the value that sorts first."""
        if not self._top:
            return None
        return min(self._top.items(), key=lambda item: (-item[1], item[0]))

    def _update_numbers(self, kind: Kind, present: pl.Series) -> None:
        # polars parses ASCII numbers exactly as int() and float() do (a test compares them);
        # anything it cannot hold (an integer past 64 bits) is converted by Python instead.
        low: float | int
        high: float | int
        batch_total: float | int
        if kind is Kind.INTEGER:
            parsed = present.cast(pl.Int64, strict=False)
            if parsed.null_count():
                integers = list(map(int, present.to_list()))
                low, high, batch_total = min(integers), max(integers), sum(integers)
            else:
                low, high = int(parsed.min()), int(parsed.max())  # type: ignore[arg-type]
                # polars' Int64 sum wraps on overflow: only a sum that cannot overflow is its.
                fits = max(abs(low), abs(high)) * len(parsed) < 2**63
                batch_total = int(parsed.sum()) if fits else sum(parsed.to_list())
        else:
            if self._decimal_comma:
                present = present.str.replace_all(",", ".", literal=True)
            parsed = present.cast(pl.Float64, strict=False)
            floats = parsed.to_list() if not parsed.null_count() else list(map(float, present.to_list()))
            # fsum: exactly rounded, the same whatever the order of the values.
            batch_total = math.fsum(floats)
            low, high = min(floats), max(floats)
        if self._minimum is None or low < self._minimum:
            self._minimum = low
        if self._maximum is None or high > self._maximum:
            self._maximum = high
        self._total += batch_total
        self._numbers += len(present)

    def as_dict(self) -> dict[str, Any]:
        kind = self.kind or Kind.EMPTY
        numeric = kind in NUMERIC_KINDS and self._numbers > 0
        mean = self._total / self._numbers if numeric else None
        top = self._most_common()
        return {
            "position": self.position,
            "name": self.name,
            "type": kind.value,
            "values": self.values,
            "nulls": self.nulls,
            "null_share": round(self.nulls / self.values, 4) if self.values else 0.0,
            "distinct": self._distinct.count(),
            "distinct_is_exact": self._distinct.is_exact,
            "min": _number(self._minimum) if numeric and self._minimum is not None else None,
            "max": _number(self._maximum) if numeric and self._maximum is not None else None,
            "mean": _number(round(mean, 6)) if mean is not None else None,
            "samples": [value[:SAMPLE_MAX_CHARS] for value in self._samples],
            "top": top[0][:SAMPLE_MAX_CHARS] if top else None,
            "top_count": top[1] if top else None,
            "formula_cells": self.formula_cells,
        }


class TableProfile:
    """One :class:`ColumnProfile` per column, fed whole batches of rows."""

    def __init__(self, names: Sequence[str], *, decimal_comma: bool) -> None:
        matcher = KindMatcher(decimal_comma=decimal_comma)
        self.columns = [
            ColumnProfile(position, name, matcher, columns=len(names), decimal_comma=decimal_comma)
            for position, name in enumerate(names, start=1)
        ]

    def update_frame(self, frame: pl.DataFrame) -> list[int]:
        """Add a batch: one String column per table column, in order, no polars nulls.

        Returns each column's null count in the batch. The null counts, and the check of the
        kind each column had so far, of every column are one polars call (Rust regexes, columns
        in parallel); the wider kinds a column may take are checked in a second call only for
        the columns that failed theirs, which after the first batch is almost never. The
        columns' distinct counts, top values and samples are one ``collect_all`` (one count per
        value serves a column's top value and exact distinct count), number parsing per column.
        """
        aggregates = [
            null_count_expr(pl.col(name)).alias(f"{index}:nulls") for index, name in enumerate(frame.columns)
        ]
        checks: list[list[tuple[Kind, pl.Expr]]] = []
        for index, (name, column) in enumerate(zip(frame.columns, self.columns, strict=True)):
            kinds = column.kind_checks(pl.col(name))
            checks.append(kinds)
            aggregates.extend(check.alias(f"{index}:{kind}") for kind, check in kinds[:1])
        found = frame.select(aggregates).row(0, named=True)
        wider = [
            check.alias(f"{index}:{kind}")
            for index, kinds in enumerate(checks)
            if kinds and not found[f"{index}:{kinds[0][0]}"]
            for kind, check in kinds[1:]
        ]
        if wider:
            found |= frame.select(wider).row(0, named=True)
        nulls = [found[f"{index}:nulls"] for index in range(len(self.columns))]
        pending: list[Pending] = []
        for index, column in enumerate(self.columns):
            kind = next((kind for kind, _ in checks[index] if found.get(f"{index}:{kind}")), Kind.STRING)
            pending += column.update(frame.to_series(index), nulls=nulls[index], kind=kind)
        results = pl.collect_all([plan for plan, _ in pending])
        for (_, take), result in zip(pending, results, strict=True):
            take(result)
        return nulls

    def as_dicts(self) -> list[dict[str, Any]]:
        return [column.as_dict() for column in self.columns]
