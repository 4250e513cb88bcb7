"""Every fixture and messy file gives what the record-by-record pass gave (golden_cases.py).

Byte-for-byte: the cleaned file, every profile field, the summary, every error and message.
The one exception is a distinct count marked approximate (past the exact budget): the sketch's
hash changed, so its estimate may move within the sketch's error, never its exactness flag.

Five cases (``decimal_comma_semicolon``, ``formulas``, ``kinds``, ``messy_big_a``, ``messy_big_b``)
were updated for the one neutralising rule (:mod:`service.csvkit.sanitize`): a cell that starts
with ``+`` is text even when a number follows (``+7`` → ``'+7``). Only those cells changed, with
the count of neutralised cells, the summary's line about it and the cleaned file's bytes.

Every column profile later gained three fields (``top``, ``top_count``: the most common value
while a column has at most 1,000 distinct values; ``formula_cells``): added to each case, nothing
else of the outcomes changed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from .golden_cases import CASES, GOLDEN_PATH, run_case

GOLDEN: dict[str, Any] = json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))
# Three standard errors of a 4,096-register HyperLogLog.
SKETCH_TOLERANCE = 3 * 1.04 / 4096**0.5


def _approximate_columns(outcome: dict[str, Any]) -> list[int]:
    columns = outcome.get("profile", {}).get("column_profiles", [])
    return [index for index, column in enumerate(columns) if not column["distinct_is_exact"]]


def _without_estimates(outcome: dict[str, Any], approximate: list[int]) -> dict[str, Any]:
    """The outcome with approximate counts blanked in the profile, its CSV and the summary."""
    outcome = copy.deepcopy(outcome)
    if not approximate:
        return outcome
    columns = outcome["profile"]["column_profiles"]
    for index in approximate:
        estimate = columns[index]["distinct"]
        columns[index]["distinct"] = None
        outcome["summary"] = outcome["summary"].replace(f"~{estimate:,} distinct", "~? distinct")
        lines = outcome["profile_csv"].split("\n")
        cells = lines[index + 1].split(",")
        cells[6] = "?"  # the `distinct` column of the profile CSV (names are never quoted here)
        lines[index + 1] = ",".join(cells)
        outcome["profile_csv"] = "\n".join(lines)
    return outcome


def test_every_case_has_a_golden_outcome() -> None:
    assert sorted(CASES) == sorted(GOLDEN)


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_match_the_record_by_record_pass(name: str, in_dir: Path, out_dir: Path) -> None:
    expected = GOLDEN[name]
    got = json.loads(json.dumps(run_case(name, in_dir, out_dir), ensure_ascii=False))

    approximate = _approximate_columns(expected)
    assert _approximate_columns(got) == approximate
    assert _without_estimates(got, approximate) == _without_estimates(expected, approximate)
    for index in approximate:
        want = expected["profile"]["column_profiles"][index]["distinct"]
        have = got["profile"]["column_profiles"][index]["distinct"]
        assert abs(have - want) <= SKETCH_TOLERANCE * want, (index, have, want)
