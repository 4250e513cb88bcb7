"""The limits a CSV job runs under, and the typed errors raised when a file breaks one.

Every message names the limit *and* what was found, so the user knows how far off the file is
("This file has 10,000 columns; the limit is 500.").
"""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import (
    FieldTooLongError,
    FileTooLargeError,
    TooManyColumnsError,
    TooManyRowsError,
)

from . import texts

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class CsvLimits:
    """Upper bounds for one file. Defaults match the service settings' defaults."""

    #: 20 MB: the largest file a Telegram bot may download through the Bot API.
    max_bytes: int = 20 * MIB
    max_rows: int = 1_000_000
    max_columns: int = 500
    max_field_chars: int = 100_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_rows", "max_columns", "max_field_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"CsvLimits.{name} must be a positive integer, got {value!r}")


def format_count(n: int) -> str:
    """``10000`` -> ``"10,000"``: thousands separators read the same in every locale we serve."""
    return f"{n:,}"


def format_size(n_bytes: int) -> str:
    """Binary megabytes with one decimal, the way Telegram clients show file sizes."""
    if n_bytes < MIB:
        return f"{n_bytes / 1024:.1f} KB" if n_bytes >= 1024 else f"{n_bytes} bytes"
    mb = n_bytes / MIB
    return f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"


def file_too_large(size: int, limit: int) -> FileTooLargeError:
    found, allowed = format_size(size), format_size(limit)
    if found == allowed or found.replace(".0 ", " ") == allowed:
        # Just over the limit: rounded sizes would read "20.0 MB; the limit is 20 MB".
        found = texts.BYTES.format(n=f"{size:,}")
        allowed = texts.BYTES.format(n=f"{limit:,}") + f" ({allowed})"
    return FileTooLargeError(
        f"file is {size} bytes, limit {limit}",
        user_message=texts.FILE_TOO_LARGE.format(found=found, allowed=allowed),
    )


def too_many_rows(limit: int) -> TooManyRowsError:
    # Reading stops at the first row over the limit, so the true total is unknown: "more than".
    return TooManyRowsError(
        f"more than {limit} data rows",
        user_message=texts.TOO_MANY_ROWS.format(limit=format_count(limit)),
    )


def too_many_columns(found: int, limit: int, *, at_least: bool = False) -> TooManyColumnsError:
    amount = texts.AT_LEAST.format(n=format_count(found)) if at_least else format_count(found)
    return TooManyColumnsError(
        f"{amount} columns, limit {limit}",
        user_message=texts.TOO_MANY_COLUMNS.format(amount=amount, limit=format_count(limit)),
    )


def field_too_long(line: int, limit: int, found: int | None = None) -> FieldTooLongError:
    if found is None:
        # The parser stopped at its own bound, so only "longer than" is known. An unclosed
        # quote is a common cause, and one the user can fix.
        detail = texts.FIELD_TOO_LONG_UNCLOSED.format(line=format_count(line), limit=format_count(limit))
    else:
        detail = texts.FIELD_TOO_LONG.format(
            line=format_count(line), found=format_count(found), limit=format_count(limit)
        )
    return FieldTooLongError(f"field too long at line {line}", user_message=detail)


def record_too_wide(line: int, limit: int) -> TooManyColumnsError:
    # Counting stops at the first field over the limit (the rest is never read), so "more than".
    return TooManyColumnsError(
        f"record on line {line} has more than {limit} fields",
        user_message=texts.RECORD_TOO_WIDE.format(line=format_count(line), limit=format_count(limit)),
    )
