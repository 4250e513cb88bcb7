"""The profile CSV: one row per column of the cleaned table.

It is opened in spreadsheets too, so every text cell (names, samples) is neutralised like the
cleaned data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from .outputs import csv_writer
from .profile import SAMPLE_VALUES
from .sanitize import neutralise

PROFILE_FIELDS = (
    "position",
    "name",
    "type",
    "values",
    "nulls",
    "null_share",
    "distinct",
    "distinct_is_exact",
    "min",
    "max",
    "mean",
    *(f"sample_{index}" for index in range(1, SAMPLE_VALUES + 1)),
)


def write_profile_csv(stream: IO[str], columns: Sequence[dict[str, Any]]) -> None:
    writer = csv_writer(stream)
    writer.writerow(PROFILE_FIELDS)
    for column in columns:
        samples = column["samples"]
        writer.writerow(
            [
                column["position"],
                neutralise(column["name"]),
                column["type"],
                column["values"],
                column["nulls"],
                column["null_share"],
                column["distinct"],
                "yes" if column["distinct_is_exact"] else "no",
                _blank_if_none(column["min"]),
                _blank_if_none(column["max"]),
                _blank_if_none(column["mean"]),
                # One cell per sample, each neutralised alone: "-1.5" stays a number.
                *(neutralise(sample) for sample in samples),
                *([""] * (SAMPLE_VALUES - len(samples))),
            ]
        )


def _blank_if_none(value: object) -> object:
    return "" if value is None else value
