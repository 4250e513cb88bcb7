"""Distinct-value counts per column: exact while small, HyperLogLog once a budget is spent.

Most columns (categories, flags, dates) have few distinct values, and an exact count is both
cheap and what users expect. Ids and free text can have as many distinct values as rows, so
each column gets a share of a per-file budget (values and characters). Past it, the column's
values are fed to a HyperLogLog sketch (4,096 one-byte registers: ~1.6 % standard error) and the
exact set is dropped, so memory per column is bounded whatever the file size.

Hashing uses BLAKE2b rather than Python's ``hash()`` so the estimate is the same in every
process and every run (``hash()`` is salted per process).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from hashlib import blake2b

# Per file, shared evenly by the columns: ~100k short strings and 4M characters cost at most
# ~16 MB of Python objects together (a few MB for typical files). A 6-column file counts up to
# 16,666 values per column exactly; a 500-column file 200 (linear counting, the sketch's small-
# range mode, is within ~1 % there anyway).
EXACT_BUDGET_VALUES = 100_000
EXACT_BUDGET_CHARS = 4_000_000

_PRECISION = 12
_REGISTERS = 1 << _PRECISION
_INDEX_SHIFT = 64 - _PRECISION
_REST_MASK = (1 << _INDEX_SHIFT) - 1
_ALPHA = 0.7213 / (1 + 1.079 / _REGISTERS)


class HyperLogLog:
    """The classic estimator (Flajolet et al., 2007) with linear counting for small ranges."""

    __slots__ = ("_registers",)

    def __init__(self) -> None:
        self._registers = bytearray(_REGISTERS)

    def add_all(self, values: Iterable[str]) -> None:
        registers = self._registers
        for value in values:
            x = int.from_bytes(blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")
            index = x >> _INDEX_SHIFT
            # Position of the first 1 bit in the remaining 52 bits (53 if they are all 0).
            rank = _INDEX_SHIFT + 1 - (x & _REST_MASK).bit_length()
            # An `if` rather than max(): no call, and no write, for most values of the hot loop.
            if rank > registers[index]:  # noqa: PLR1730
                registers[index] = rank

    def estimate(self) -> int:
        registers = self._registers
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
        self._exact: set[str] | None = set()
        self._chars = 0
        self._sketch: HyperLogLog | None = None

    @property
    def is_exact(self) -> bool:
        return self._exact is not None

    def add_all(self, values: list[str]) -> None:
        exact = self._exact
        if exact is None:
            assert self._sketch is not None
            # Repeats cannot change a sketch: hash each value of the batch once.
            self._sketch.add_all(set(values))
            return
        new = [value for value in values if value not in exact]
        if not new:
            return
        exact.update(new)
        self._chars += sum(map(len, new))  # repeats within `new` overcount: errs on the safe side
        if len(exact) > self._max_values or self._chars > self._max_chars:
            self._sketch = HyperLogLog()
            self._sketch.add_all(exact)
            self._exact = None

    def count(self) -> int:
        if self._exact is not None:
            return len(self._exact)
        assert self._sketch is not None
        return self._sketch.estimate()
