"""Per-column statistics, computed over the cleaned rows in batches.

Working a batch column by column (``zip(*rows)``) lets type checks, distinct counting and
numeric summaries run as C-level ``map``/``set`` operations instead of a Python call per cell;
that is what makes profiling cheap next to parsing.

The profile describes the cleaned table (after trimming, padding and removing duplicates):
what the user downloads is what the numbers are about. Values are judged before formula
neutralisation, so ``-12.5`` is a number and ``=1+2`` a string either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from .distinct import DistinctCounter
from .infer import NUMERIC_KINDS, Kind, KindMatcher, column_has_nulls, join_column, non_nulls

SAMPLE_VALUES = 3
# Sample values are for eyes, not for analysis: long ones are cut.
SAMPLE_MAX_CHARS = 60


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
        "_total",
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

    def update(
        self, values: Sequence[str], joined: str | None = None, series: pl.Series | None = None
    ) -> None:
        """Add a batch of this column's values.

        ``joined`` (the values as :func:`.infer.join_column` made them) and ``series`` (the same
        values in polars) are what the caller already has; they spare a join and a copy.
        """
        if joined is None:
            joined = join_column(values)
        present: Sequence[str]
        if column_has_nulls(joined):
            present = non_nulls(values)
            joined = None
            series = None
        else:
            present = values  # the common case: nothing to filter
        self.values += len(values)
        self.nulls += len(values) - len(present)
        if not present:
            return
        kind = self._matcher.widen(self.kind, present, joined)
        if kind in NUMERIC_KINDS:
            self._update_numbers(kind, present)
        self.kind = kind
        self._distinct.add_all(present, series)
        if len(self._samples) < SAMPLE_VALUES:
            # dict.fromkeys: the batch's distinct values in order, so a column of two values
            # does not cost a Python step per cell in every batch.
            for value in dict.fromkeys(present):
                if value not in self._samples:
                    self._samples.append(value)
                    if len(self._samples) == SAMPLE_VALUES:
                        break

    def _update_numbers(self, kind: Kind, present: Sequence[str]) -> None:
        numbers: list[int] | list[float]
        if kind is Kind.INTEGER:
            numbers = list(map(int, present))
            batch_total: float | int = sum(numbers)
        else:
            if self._decimal_comma:
                present = [value.replace(",", ".") for value in present]
            numbers = list(map(float, present))
            batch_total = math.fsum(numbers)
        low, high = min(numbers), max(numbers)
        if self._minimum is None or low < self._minimum:
            self._minimum = low
        if self._maximum is None or high > self._maximum:
            self._maximum = high
        self._total += batch_total
        self._numbers += len(numbers)

    def as_dict(self) -> dict[str, Any]:
        kind = self.kind or Kind.EMPTY
        numeric = kind in NUMERIC_KINDS and self._numbers > 0
        mean = self._total / self._numbers if numeric else None
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
        }


class TableProfile:
    """One :class:`ColumnProfile` per column, fed whole batches of rows."""

    def __init__(self, names: Sequence[str], *, decimal_comma: bool) -> None:
        matcher = KindMatcher(decimal_comma=decimal_comma)
        self.columns = [
            ColumnProfile(position, name, matcher, columns=len(names), decimal_comma=decimal_comma)
            for position, name in enumerate(names, start=1)
        ]

    def update_columns(
        self,
        columns: Sequence[Sequence[str]],
        joined: Sequence[str | None] | None = None,
        frame: pl.DataFrame | None = None,
    ) -> None:
        """Add a batch given column by column (the transpose of its rows); ``joined`` and
        ``frame`` optionally carry the same columns joined and in polars (see ``update``)."""
        for index, (column, values) in enumerate(zip(self.columns, columns, strict=True)):
            column.update(
                values,
                joined[index] if joined is not None else None,
                frame.to_series(index) if frame is not None else None,
            )

    def as_dicts(self) -> list[dict[str, Any]]:
        return [column.as_dict() for column in self.columns]
