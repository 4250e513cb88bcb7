"""The result message: the job id, one line about the table, and a per-column block.

The block is monospace (a ``pre`` entity, never a parse mode: names and values are user data)
with one line per column — type, filled share, distinct count, and min…max for numbers, else
the most common value with its count when a value repeats, else an example — for the first
columns that fit Telegram's 1,024-character caption; the rest are counted ("…and 12 more columns
in the profile file").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiogram.utils.formatting import Pre, Text

from service import messages
from service.exports.profile_table import type_name
from service.i18n import _, ngettext
from service.i18n import fmt as f

#: Telegram's caption limit.
MAX_CAPTION_CHARS = 1024
#: Room kept for the "…and N more columns" line.
_TAIL_RESERVE = 70
NAME_CHARS = 14
VALUE_CHARS = 18
#: Columns kept in a job's stored summary, so /job can show the block again.
STORED_COLUMNS = 40


def overview(summary: Mapping[str, Any]) -> str:
    rows_out = int(summary.get("rows_out", 0))
    columns = int(summary.get("columns", 0))
    text = _("{rows} × {columns}").format(
        rows=ngettext("{n} row", "{n} rows", rows_out).format(n=messages.count(rows_out)),
        columns=ngettext("{n} column", "{n} columns", columns).format(n=messages.count(columns)),
    )
    removed = int(summary.get("duplicates_removed", 0))
    if removed:
        text += "; " + ngettext("{n} duplicate row removed", "{n} duplicate rows removed", removed).format(
            n=messages.count(removed)
        )
    neutralised = int(summary.get("formula_cells_neutralised", 0))
    if neutralised:
        text += "; " + formula_line(neutralised, summary)
    malformed = summary.get("malformed")
    if isinstance(malformed, Mapping) and malformed.get("rows"):
        text += "\n" + malformed_line(malformed)
    fmt = summary.get("output_format")
    if isinstance(fmt, str) and fmt in messages.FORMAT_NAMES:
        text += "\n" + _("Format: {format} (/format to change)").format(format=messages.format_name(fmt))
    return text


#: Columns named in the line about formula-like cells.
FORMULA_COLUMNS_SHOWN = 3


def formula_line(neutralised: int, summary: Mapping[str, Any]) -> str:
    """How many formula-like cells there were, what became of them, and in which columns.

    In CSV they start with ``'`` (a spreadsheet shows them as text); an XLSX text cell is never
    evaluated, so there they are exactly what the user wrote."""
    if summary.get("output_format") == "xlsx":
        head = ngettext(
            "{n} formula-like cell kept as text", "{n} formula-like cells kept as text", neutralised
        )
    else:
        head = ngettext(
            "{n} formula-like cell starts with '", "{n} formula-like cells start with '", neutralised
        )
    text = head.format(n=messages.count(neutralised))
    columns = [c for c in summary.get("column_profiles", []) if int(c.get("formula_cells") or 0)]
    if columns:
        named = ", ".join(
            f"{_clip(' '.join(str(c['name']).split()), NAME_CHARS)} {messages.count(int(c['formula_cells']))}"
            for c in columns[:FORMULA_COLUMNS_SHOWN]
        )
        text += " (" + named + (", …" if len(columns) > FORMULA_COLUMNS_SHOWN else "") + ")"
    return text


def malformed_line(malformed: Mapping[str, Any]) -> str:
    """``2 malformed rows (lines 3, 5): 1 short (padded); 1 with a quote never closed (kept)``."""
    first = [messages.count(int(line)) for line in malformed.get("first_lines", [])]
    rows = int(malformed["rows"])
    lines = ", ".join(first) + (", …" if rows > len(first) else "")
    kinds = [
        (malformed.get("short_rows_padded", 0), _("{n} short (padded)")),
        (malformed.get("long_rows_dropped", 0), _("{n} with extra fields (dropped)")),
        (malformed.get("broken_quoting", 0), _("{n} with broken quotes (kept)")),
        (malformed.get("unclosed_quote", 0), _("{n} with a quote never closed (kept)")),
    ]
    parts = "; ".join(text.format(n=messages.count(int(n))) for n, text in kinds if n)
    head = ngettext("{n} malformed row (line {lines})", "{n} malformed rows (lines {lines})", rows)
    return head.format(n=messages.count(rows), lines=lines) + (": " + parts if parts else "")


def column_line(column: Mapping[str, Any]) -> str:
    name = _clip(" ".join(str(column["name"]).split()), NAME_CHARS)
    kind = str(column["type"])
    parts = [
        f"{column['position']:>2} {name:<{NAME_CHARS}}",
        _clip(type_name(kind), 9),
        f.share(1.0 - float(column["null_share"])) if column["values"] else "—",
        ("~" if not column["distinct_is_exact"] else "") + messages.count(int(column["distinct"])),
    ]
    if column.get("min") is not None and column.get("max") is not None:
        parts.append(_clip(f"{_num(column['min'])}…{_num(column['max'])}", VALUE_CHARS))
    elif column.get("top") is not None and int(column.get("top_count") or 0) > 1:
        count = "×" + messages.count(int(column["top_count"]))
        value = _clip(" ".join(str(column["top"]).split()), VALUE_CHARS - len(count) - 1)
        parts.append(f"{value} {count}")
    elif column.get("samples"):
        parts.append(_clip(" ".join(str(column["samples"][0]).split()), VALUE_CHARS))
    return " ".join(parts)


def result_text(
    job_id: str, summary: Mapping[str, Any], columns: Sequence[Mapping[str, Any]], *, resend: bool = False
) -> Text:
    """``resend``: the head says the result is sent again (a deliverer that took over)."""
    caption = messages.result_caption_resent(job_id) if resend else messages.result_caption(job_id)
    about = overview(summary)
    head = caption + "\n" + about
    legend = _("column · type · filled · distinct · range, most common (×times) or example")
    # Sized for the longer caption either way, so a resend shows the same columns as the first.
    longest = max(len(messages.result_caption(job_id)), len(messages.result_caption_resent(job_id)))
    budget = MAX_CAPTION_CHARS - (longest + 1 + len(about)) - len(legend) - _TAIL_RESERVE
    lines: list[str] = []
    for column in columns:
        line = column_line(column)
        if sum(len(x) + 1 for x in lines) + len(line) > budget:
            break
        lines.append(line)
    total = int(summary.get("columns", len(columns)))
    parts: list[Any] = [head]
    if lines:
        parts += ["\n", legend, "\n", Pre("\n".join(lines))]
    if total > len(lines):
        more = total - len(lines)
        parts.append(
            "\n"
            + ngettext(
                "…and {n} more column in the profile file.",
                "…and {n} more columns in the profile file.",
                more,
            ).format(n=messages.count(more))
        )
    return Text(*parts)


def stored_columns(column_profiles: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What of the profile a job's summary keeps for showing the block again."""
    keep = (
        "position",
        "name",
        "type",
        "values",
        "null_share",
        "distinct",
        "distinct_is_exact",
        "min",
        "max",
        "top",
        "top_count",
        "formula_cells",
    )
    return [
        {**{k: column.get(k) for k in keep}, "samples": list(column.get("samples", []))[:1]}
        for column in column_profiles[:STORED_COLUMNS]
    ]


def _num(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f.number(value, decimals=0)
    return f.number(value, decimals=2)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
