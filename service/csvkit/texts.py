"""What the CSV engine tells a user about a file it refuses: templates, English, in one place.

The engine runs in worker child processes that load no translations, and a job's failure is
stored as the English text; so the engine fills these templates in English, and the text is
translated where it is shown (:func:`service.i18n.errors.error_text`): the filled text is matched
back to its template, the template translated and filled again, numbers in the user's locale.
A catalogue entry per template (``N_`` marks them for extraction) keeps the detail — the line,
the limit, what the file is — in every language.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a template for the catalogues (translated where it is shown)."""
    return message


FILE_TOO_LARGE = N_("This file is {found}; the limit is {allowed}. Please split it into smaller files.")
BYTES = N_("{n} bytes")
TOO_MANY_ROWS = N_(
    "This file has more than {limit} rows; the limit is {limit}. Please split it into smaller files."
)
TOO_MANY_COLUMNS = N_("This file has {amount} columns; the limit is {limit}.")
AT_LEAST = N_("at least {n}")
FIELD_TOO_LONG_UNCLOSED = N_(
    "A cell starting on line {line} is longer than {limit} characters, the limit. If that cell "
    'should be short, look for a quote (") that is never closed: everything after it becomes one '
    "cell."
)
FIELD_TOO_LONG = N_("A cell on line {line} has {found} characters; the limit is {limit}.")
RECORD_TOO_WIDE = N_(
    "The row on line {line} has more than {limit} fields; the limit is {limit} columns. Check that "
    "row's delimiters and quotes."
)
NOT_CSV = N_("That file is {what}, not CSV. Please send a CSV text file (.csv, .tsv or .txt).")
BINARY = N_("That file contains binary data, not CSV text. Please send a CSV text file (.csv, .tsv or .txt).")
NUL_BYTES = N_(
    "That file contains NUL bytes (first on line {line}), so it is binary data, not CSV text. If it "
    "is UTF-16 text, save it as UTF-8 and resend."
)
MIXED_ENCODINGS = N_(
    "This file is mostly UTF-8, but line {line} has bytes that are not valid UTF-8: it mixes text "
    "encodings. Please save it as UTF-8 and resend."
)
DECLARED_BUT_INVALID = N_(
    "This file says it is {name}, but line {line} is not valid {name}. Please save it as UTF-8 and resend."
)
EMPTY_BYTES = N_("That file is empty (0 bytes).")
NO_TEXT = N_("That file has no text in it.")
HEADER_ONLY = N_("That file has a header row but no data rows under it.")
MALFORMED = N_(
    "Most rows don't fit the table: {rows} of {total} have a different number of fields than the "
    "{columns} columns or broken quotes (first on lines {lines}). Check the delimiter and the "
    "quotes, then resend."
)

#: Every whole message the engine writes, matched in this order.
TEMPLATES = (
    FILE_TOO_LARGE,
    TOO_MANY_ROWS,
    TOO_MANY_COLUMNS,
    FIELD_TOO_LONG_UNCLOSED,
    FIELD_TOO_LONG,
    RECORD_TOO_WIDE,
    NOT_CSV,
    BINARY,
    NUL_BYTES,
    MIXED_ENCODINGS,
    DECLARED_BUT_INVALID,
    EMPTY_BYTES,
    NO_TEXT,
    HEADER_ONLY,
    MALFORMED,
)
#: Parts that fill a template's placeholder (``at least 1,000``, ``21,000,001 bytes``).
FRAGMENTS = (AT_LEAST, BYTES)
