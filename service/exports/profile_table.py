"""The profile as a table: one row per column, headers and type names in the current language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.csvkit.sanitize import neutralise
from service.i18n import N_, _

SAMPLES = 3
HEADERS = (
    N_("position"),
    N_("name"),
    N_("type"),
    N_("values"),
    N_("empty values"),
    N_("empty share"),
    N_("distinct"),
    N_("distinct exact"),
    N_("min"),
    N_("max"),
    N_("mean"),
    N_("sample 1"),
    N_("sample 2"),
    N_("sample 3"),
    N_("most common"),
    N_("most common: times"),
    N_("formula-like cells"),
)
TYPE_NAMES = {
    "empty": N_("empty"),
    "boolean": N_("boolean"),
    "integer": N_("integer"),
    "float": N_("decimal"),
    "date": N_("date"),
    "datetime": N_("date and time"),
    "string": N_("text"),
}


def type_name(kind: str) -> str:
    return _(TYPE_NAMES.get(kind, kind))


def profile_rows(
    columns: Sequence[dict[str, Any]], *, neutralised: bool
) -> tuple[list[str], list[list[object]]]:
    """Headers and rows; user text (names, samples) neutralised for CSV, raw for XLSX text cells."""
    safe = neutralise if neutralised else str

    headers = [_(header) for header in HEADERS]
    rows: list[list[object]] = []
    for column in columns:
        samples = [str(sample) for sample in column.get("samples", [])][:SAMPLES]
        rows.append(
            [
                column["position"],
                safe(str(column["name"])),
                type_name(str(column["type"])),
                column["values"],
                column["nulls"],
                column["null_share"],
                column["distinct"],
                _("yes") if column["distinct_is_exact"] else _("no"),
                _blank(column["min"]),
                _blank(column["max"]),
                _blank(column["mean"]),
                *(safe(sample) for sample in samples),
                *([""] * (SAMPLES - len(samples))),
                "" if column.get("top") is None else safe(str(column["top"])),
                _blank(column.get("top_count")),
                column.get("formula_cells", 0),
            ]
        )
    return headers, rows


def _blank(value: object) -> object:
    return "" if value is None else value
