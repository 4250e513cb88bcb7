"""Numbers, sizes, shares and times written the way the current language writes them (Babel)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from service.i18n.catalog import i18n

KiB = 1024
MiB = 1024 * 1024


def current_locale() -> str:
    return i18n().current_locale


def number(value: float, *, decimals: int = 2) -> str:
    """``12345.678`` → ``12,345.68`` (en) or ``12 345,68`` (ru)."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=current_locale())


def share(value: float) -> str:
    """A 0–1 ratio as a percentage; a small non-zero share reads ``<1%``, not ``0%``."""
    if 0 < value < 0.01:
        return "<" + format_percent(0.01, locale=current_locale())
    return format_percent(value, locale=current_locale())


def size(n_bytes: int) -> str:
    """``20971520`` → ``20 MB`` / ``20 МБ``; kilobytes below a megabyte."""
    locale = current_locale()
    if n_bytes >= MiB:
        return format_unit(round(n_bytes / MiB, 1), "digital-megabyte", "short", locale=locale)
    return format_unit(round(n_bytes / KiB, 1), "digital-kilobyte", "short", locale=locale)


def when(moment: datetime) -> str:
    """A timestamp in UTC, medium length: ``12/1/26, 5:43 PM UTC`` / ``01.12.2026, 17:43 UTC``."""
    return format_datetime(moment, format="short", tzinfo=None, locale=current_locale()) + " UTC"
