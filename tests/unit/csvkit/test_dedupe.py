"""The digest table: a set with bounded, predictable memory."""

from __future__ import annotations

from service.csvkit.dedupe import DIGEST_BYTES, DigestTable, row_digest


def test_adding_reports_new_and_repeated_digests() -> None:
    table = DigestTable()
    a, b = row_digest("1\x00x"), row_digest("1\x00y")
    assert [table.add(a), table.add(b), table.add(a)] == [True, True, False]
    assert table.count == 2


def test_growing_keeps_every_digest() -> None:
    table = DigestTable()
    digests = [row_digest(str(i)) for i in range(5_000)]  # several doublings from 1,024 slots
    assert all(table.add(d) for d in digests)
    assert not any(table.add(d) for d in digests)
    assert table.count == 5_000


def test_table_stays_at_most_half_full_in_a_power_of_two_of_slots() -> None:
    """The documented bound: 16 bytes per slot, at most 2 slots per row, rounded up to 2^k."""
    table = DigestTable()
    for i in range(100_000):
        table.add(row_digest(str(i)))
    assert table.memory_bytes == 2**18 * DIGEST_BYTES  # 262,144 slots: the first >= 200,000


def test_presizing_avoids_growth() -> None:
    table = DigestTable(expected=10_000)
    size = table.memory_bytes
    for i in range(10_000):
        table.add(row_digest(str(i)))
    assert table.memory_bytes == size


def test_an_all_zero_digest_is_never_produced() -> None:
    """All zeros marks a free slot; row_digest must never return it."""
    assert row_digest("") != bytes(DIGEST_BYTES)
