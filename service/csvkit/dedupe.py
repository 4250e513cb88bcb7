"""Exact duplicate-row detection in bounded memory: a growing table of 128-bit row keys.

Each row (its trimmed cells, at the table's fixed width) is reduced to a 128-bit key: two
polars row hashes with different seeds, computed for a whole chunk of rows in one call. Two
different rows share a key with probability about n²/2¹²⁹ for random data: below 10⁻²⁶ at a
million rows, so "same key" is "same row" for every practical purpose. (The hash is not
cryptographic: a file built to collide could lose its own rows, nobody else's.)

Memory: the keys of the distinct rows seen so far, 16 bytes each in polars (16 MB at the
default 1,000,000-row limit), plus one chunk's keys and a hash table of the first key halves
while a chunk is checked. A row-at-a-time table of BLAKE2b digests cost 32 bytes a row and
~3 µs of Python per row; this costs well under 1 µs.
"""

from __future__ import annotations

import polars as pl

# Any two different fixed seeds: the keys only have to be consistent within one file.
_SEEDS = (0x6A09E667, 0xBB67AE85)
_KEY_COLUMNS = ("key_a", "key_b")
# The table grows by one chunk per call; joining against hundreds of small chunks is slower
# than against one, and rechunking is a copy, so it is done now and then.
_MAX_CHUNKS = 32


class RowDeduper:
    """Feed chunks of rows in file order; :meth:`first_seen` says which rows are new."""

    __slots__ = ("_seen", "count")

    def __init__(self) -> None:
        self._seen = pl.DataFrame(schema={name: pl.UInt64 for name in _KEY_COLUMNS})
        self.count = 0  # distinct rows seen

    def first_seen(self, frame: pl.DataFrame) -> list[bool] | None:
        """For each row of the chunk (one String column per table column), whether no earlier
        row equals it. None means "all of them": the common case needs no mask at all.
        """
        keys = pl.DataFrame(
            {name: frame.hash_rows(seed=seed) for name, seed in zip(_KEY_COLUMNS, _SEEDS, strict=True)}
        ).with_row_index("row")
        new = keys.filter(pl.struct(*_KEY_COLUMNS).is_first_distinct())
        # Joined on the first half of the key alone: a one-column join against the table costs
        # a fraction of the memory of a two-column one (rows are encoded for that), and the
        # few rows it matches are then checked on the whole key.
        first_half = _KEY_COLUMNS[0]
        hits = new.join(self._seen.select(first_half), on=first_half, how="semi")
        if hits.height:
            candidates = self._seen.join(hits.select(first_half), on=first_half, how="semi")
            repeated = hits.join(candidates, on=list(_KEY_COLUMNS), how="semi")["row"]
            new = new.filter(~pl.col("row").is_in(repeated.implode()))
        self._seen = pl.concat([self._seen, new.select(_KEY_COLUMNS)], rechunk=False)
        if self._seen.n_chunks() > _MAX_CHUNKS:
            self._seen = self._seen.rechunk()
        self.count += new.height
        if new.height == keys.height:
            return None
        mask = [False] * keys.height
        for row in new["row"].to_list():
            mask[row] = True
        return mask
