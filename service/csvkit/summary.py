"""The short plain-text report sent to the chat next to the files.

Plain text on purpose: cell values and column names are user data, and any Markdown/HTML
parse mode would let a stray ``*`` or ``<`` break the message. The text stays under
:data:`MAX_SUMMARY_CHARS` (Telegram allows 4,096; a chat reads a few lines): columns that do
not fit are left to the profile file.
"""

from __future__ import annotations

from typing import Any

MAX_SUMMARY_CHARS = 1000
_MAX_NAME_CHARS = 32
# Room kept for the "…and N more columns" line.
_TAIL_RESERVE = 60

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def summary_text(profile: dict[str, Any]) -> str:
    lines = [_overview(profile), _cleaning(profile)]
    malformed = profile["malformed"]
    if malformed["rows"]:
        lines.append(_malformed(malformed))
    if profile["formula_cells_neutralised"]:
        lines.append(
            "Formula-like cells prefixed with ' so that spreadsheets show them as text: "
            f"{profile['formula_cells_neutralised']:,}."
        )
    lines.append("Columns:")
    text = "\n".join(lines)
    columns = profile["column_profiles"]
    for shown, column in enumerate(columns):
        line = "\n" + _column(column)
        if len(text) + len(line) > MAX_SUMMARY_CHARS - _TAIL_RESERVE:
            text += f"\n…and {len(columns) - shown:,} more columns in the profile file."
            break
        text += line
    return text[:MAX_SUMMARY_CHARS]


def _overview(profile: dict[str, Any]) -> str:
    delimiter = profile["delimiter"]
    layout = _DELIMITER_NAMES.get(delimiter, "one column") if delimiter else "one column"
    header = "with a header row" if profile["has_header"] else "no header row"
    return (
        f"{_count(profile['rows_in'], 'row')} × {_count(profile['columns'], 'column')} "
        f"({profile['encoding']}, {layout}, {header})."
    )


def _cleaning(profile: dict[str, Any]) -> str:
    removed = []
    if profile["duplicates_removed"]:
        removed.append(_count(profile["duplicates_removed"], "duplicate row"))
    if profile["empty_rows_removed"]:
        removed.append(_count(profile["empty_rows_removed"], "empty row"))
    dropped = profile["malformed"]["long_rows_dropped"]
    if dropped:
        removed.append(_count(dropped, "row") + " with extra fields")
    text = f"Cleaned file: {_count(profile['rows_out'], 'row')}"
    return text + (f"; removed {' and '.join(removed)}." if removed else ".")


def _malformed(malformed: dict[str, Any]) -> str:
    lines = ", ".join(f"{line:,}" for line in malformed["first_lines"])
    more = ", …" if malformed["rows"] > len(malformed["first_lines"]) else ""
    parts = []
    if malformed["short_rows_padded"]:
        parts.append(f"{malformed['short_rows_padded']:,} short (padded)")
    if malformed["long_rows_dropped"]:
        parts.append(f"{malformed['long_rows_dropped']:,} with extra fields (dropped)")
    if malformed["broken_quoting"]:
        parts.append(f"{malformed['broken_quoting']:,} with broken quotes (kept)")
    if malformed["unclosed_quote"]:
        parts.append(f"{malformed['unclosed_quote']:,} with a quote never closed (kept)")
    where = "line" if len(malformed["first_lines"]) == 1 and not more else "lines"
    return f"{_count(malformed['rows'], 'malformed row')} ({where} {lines}{more}): {'; '.join(parts)}."


def _column(column: dict[str, Any]) -> str:
    name = " ".join(str(column["name"]).split())  # no line breaks inside a column's line
    if len(name) > _MAX_NAME_CHARS:
        name = name[: _MAX_NAME_CHARS - 1] + "…"
    approx = "" if column["distinct_is_exact"] else "~"
    text = (
        f"{column['position']}. {name}: {column['type']}, "
        f"{_share(column['null_share'])} empty, {approx}{column['distinct']:,} distinct"
    )
    if column["min"] is not None and column["max"] is not None:
        text += f", {_number(column['min'])} to {_number(column['max'])}"
    if column["mean"] is not None:
        text += f", mean {_number(column['mean'])}"
    return text


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _share(share: float) -> str:
    if 0 < share < 0.01:
        return "<1%"
    return f"{share:.0%}"


def _number(value: float) -> str:
    """Short and readable: full integers, two decimals, scientific only at the extremes."""
    if isinstance(value, int) and abs(value) < 10**15:
        return f"{value:,}"
    if abs(value) >= 1e15 or (value != 0 and abs(value) < 1e-4):
        return f"{value:.4g}"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
