"""Distinct-value counts per column: exact while small, HyperLogLog once a budget is spent.

Most columns (categories, flags, dates) have few distinct values, and an exact count is both
cheap and what users expect. Ids and free text can have as many distinct values as rows, so
each column gets a share of a per-file budget (values and characters). Past it, the column's
values are fed to a HyperLogLog sketch (4,096 one-byte registers: ~1.6 % standard error) and the
exact set is dropped, so memory per column is bounded whatever the file size. The exact set is
a polars Series of the values seen, checked against a batch's distinct values in one call.

Hashing is polars' seeded 64-bit string hash, computed for a whole batch in one call: the same
in every process and every run (unlike Python's salted ``hash()``). The per-value BLAKE2b this
sketch used before cost ~0.5 µs a value, more than the whole csv parse of the row; the sketch's
estimates moved within its error when the hash changed, exact counts did not move at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import polars as pl

# Per file, shared evenly by the columns: ~100k short strings and 4M characters cost at most
# ~6 MB in polars together (a few MB for typical files). A 6-column file counts up to
# 16,666 values per column exactly; a 500-column file 200 (linear counting, the sketch's small-
# range mode, is within ~1 % there anyway).
EXACT_BUDGET_VALUES = 100_000
EXACT_BUDGET_CHARS = 4_000_000

_PRECISION = 12
_REGISTERS = 1 << _PRECISION
_INDEX_SHIFT = 64 - _PRECISION
_REST_MASK = (1 << _INDEX_SHIFT) - 1
_ALPHA = 0.7213 / (1 + 1.079 / _REGISTERS)
# Any fixed seed: it only has to be the same in every run.
_HASH_SEED = 0x5EED


class HyperLogLog:
    """The classic estimator (Flajolet et al., 2007) with linear counting for small ranges."""

    __slots__ = ("_registers",)

    def __init__(self) -> None:
        # One rank per register, raised batch after batch where a batch's rank is higher.
        self._registers = pl.Series("rank", [0] * _REGISTERS, dtype=pl.UInt8)

    def add_all(self, values: Iterable[str] | pl.Series) -> None:
        if not isinstance(values, pl.Series):
            values = pl.Series(values=list(values), dtype=pl.String)
        self.take(self.plan(values).collect())

    def plan(self, values: pl.Series) -> pl.LazyFrame:
        """The polars work of adding ``values``; hand its result to :meth:`take`."""
        # Register = top 12 bits; rank = position of the first 1 bit in the remaining 52
        # (53 if they are all 0), so leading zeros of the 64-bit remainder minus 11.
        hashed = pl.col("v").hash(seed=_HASH_SEED)
        index = (hashed // (1 << _INDEX_SHIFT)).cast(pl.UInt32)
        rank = ((hashed & _REST_MASK).bitwise_leading_zeros() - (_PRECISION - 1)).cast(pl.UInt8)
        # Only values above their register's rank change anything: once the sketch has seen a
        # few thousand values, few values of a batch are, so the max per register is cheap.
        return (
            values.rename("v")
            .to_frame()
            .lazy()
            .select(index=index, rank=rank)
            .filter(pl.col("rank") > pl.lit(self._registers).gather(pl.col("index")))
            .group_by("index")
            .agg(pl.col("rank").max())
        )

    def take(self, raised: pl.DataFrame) -> None:
        """Apply the result of :meth:`plan`: the registers a batch raised, and to what."""
        if raised.height:
            self._registers.scatter(raised["index"], raised["rank"])

    def estimate(self) -> int:
        registers = self._registers.to_list()
        raw = _ALPHA * _REGISTERS * _REGISTERS / math.fsum(2.0**-r for r in registers)
        zeros = registers.count(0)
        if raw <= 2.5 * _REGISTERS and zeros:
            return round(_REGISTERS * math.log(_REGISTERS / zeros))
        return round(raw)


class DistinctCounter:
    """Counts distinct values of one column."""

    __slots__ = ("_chars", "_exact", "_max_chars", "_max_values", "_sketch")

    def __init__(self, *, columns: int) -> None:
        self._max_values = EXACT_BUDGET_VALUES // max(columns, 1)
        self._max_chars = EXACT_BUDGET_CHARS // max(columns, 1)
        self._exact: pl.Series | None = pl.Series("v", [], dtype=pl.String)  # values seen
        self._chars = 0
        self._sketch: HyperLogLog | None = None

    @property
    def is_exact(self) -> bool:
        return self._exact is not None

    def add_all(self, values: Sequence[str] | pl.Series) -> None:
        """Add a batch of values."""
        if not isinstance(values, pl.Series):
            values = pl.Series(values=list(values), dtype=pl.String)
        if self._exact is None:
            assert self._sketch is not None
            self._sketch.add_all(values)
        else:
            self.add_counts(values.rename("v").value_counts(name="n"))

    def sketch_plan(self, values: pl.Series) -> pl.LazyFrame:
        """Past the budget: the polars work of adding a batch; hand its result to
        :meth:`take_sketch`. Plans of several columns run in one ``pl.collect_all`` call."""
        assert self._sketch is not None
        return self._sketch.plan(values)

    def take_sketch(self, result: pl.DataFrame) -> None:
        assert self._sketch is not None
        self._sketch.take(result)

    def add_counts(self, counts: pl.DataFrame) -> None:
        """Add a batch given as its distinct values and how often each occurs (two columns),
        which the caller may have counted for its own use too; only while :attr:`is_exact`."""
        assert self._exact is not None
        value, n = counts.get_column(counts.columns[0]), counts.get_column(counts.columns[1])
        new = ~value.is_in(self._exact.implode())
        if not new.any():
            return
        self._exact = pl.concat([self._exact, value.filter(new).rename("v")])
        # Every occurrence of a new value counts, as if the batch were added value by value:
        # repeats within a batch overcount, which errs on the safe side.
        self._chars += int((value.filter(new).str.len_chars().cast(pl.Int64) * n.filter(new)).sum())
        if len(self._exact) > self._max_values or self._chars > self._max_chars:
            self._sketch = HyperLogLog()
            self._sketch.add_all(self._exact)
            self._exact = None

    def count(self) -> int:
        if self._exact is not None:
            return len(self._exact)
        assert self._sketch is not None
        return self._sketch.estimate()
