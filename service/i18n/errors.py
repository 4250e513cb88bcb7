"""Error messages in the user's language.

The error classes (:mod:`service.errors`, a leaf module) carry English ``user_message`` defaults;
each is a catalogue entry (the extraction collects them, :mod:`service.i18n.extract`), translated
where it is shown. The CSV engine's specific messages (``line 7 has 12 fields…``) are English
text filled from the templates of :mod:`service.csvkit.texts` while a job runs (in a child
process, or read back from a failed job's row): the text is matched to its template, and the
translated template is filled with the same details, numbers in the user's locale. Text that
matches nothing gets its error kind's own translated message, with the configured limit where
one applies, rather than English.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from service.config import Settings
from service.csvkit import texts
from service.errors import CsvbotError
from service.i18n import N_, _, current_language
from service.i18n import fmt as f
from service.i18n.catalog import SOURCE_LOCALE

#: Per-kind messages for the errors whose messages the CSV engine writes with details.
KIND_TEXTS = {
    "too_large": N_("This file is larger than the limit of {size}. Please split it and send the parts."),
    "too_many_rows": N_(
        "This file has more than {rows} rows, the limit. Please split it into smaller files."
    ),
    "too_many_columns": N_("This file has more than {columns} columns, the limit."),
    "field_too_long": N_("A cell of this file is longer than {chars} characters, the limit."),
    "not_csv": N_("That file is not CSV text. Please send a .csv, .tsv or .txt file."),
    "bad_encoding": N_(
        "I couldn't read this file's text encoding (it may mix encodings). "
        "Please save it as UTF-8 and resend."
    ),
    "malformed_csv": N_(
        "Most rows don't fit the table: they have a different number of fields or broken quotes. "
        "Check the delimiter and the quotes, then resend."
    ),
    "empty_file": N_("That file is empty: there are no rows to profile."),
    "invalid_input": N_("I couldn't process that file."),
}


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: An English count as the engine writes it ("1,234").
_ENGLISH_COUNT = re.compile(r"\d{1,3}(?:,\d{3})*")


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """``template`` as a regex whose named groups are its placeholders (repeats must agree)."""
    parts, seen, at = [], set(), 0
    for found in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[at : found.start()]))
        name = found.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        at = found.end()
    parts.append(re.escape(template[at:]))
    return re.compile("".join(parts), re.DOTALL)


def _refill(text: str, templates: tuple[str, ...]) -> str | None:
    """``text`` translated through the template it was filled from (``None``: it matches none)."""
    for template in templates:
        found = _pattern(template).fullmatch(text)
        if found is not None:
            return _(template).format(**{k: _localised(v) for k, v in found.groupdict().items()})
    return None


def _localised(value: str) -> str:
    """A filled-in detail in the current language: a count in its digits, a known phrase
    translated ("a PDF document"), a fragment refilled ("at least 1,000"), else as it was."""
    if _ENGLISH_COUNT.fullmatch(value):
        return f.number(int(value.replace(",", "")), decimals=0)
    translated = _(value)
    if translated != value:
        return translated
    return _refill(value, texts.FRAGMENTS) or value


def error_text(kind: str, message: str | None, settings: Settings) -> str:
    """``message`` (English, as the service wrote it) for the current language."""
    if not message:
        return _(CsvbotError.user_message)
    translated = _(message)
    if translated != message or current_language() == SOURCE_LOCALE:
        return translated
    refilled = _refill(message, texts.TEMPLATES)
    if refilled is not None:
        return refilled
    template = KIND_TEXTS.get(kind)
    if template is None:
        return message
    return _(template).format(**_limits(settings))


def exception_text(exc: BaseException, settings: Settings) -> str:
    if isinstance(exc, CsvbotError):
        return error_text(exc.kind, exc.user_message, settings)
    return _(CsvbotError.user_message)


def _limits(settings: Settings) -> dict[str, Any]:
    return {
        "size": f.size(settings.max_upload_bytes),
        "rows": f.number(settings.max_rows, decimals=0),
        "columns": f.number(settings.max_columns, decimals=0),
        "chars": f.number(settings.max_field_chars, decimals=0),
    }
