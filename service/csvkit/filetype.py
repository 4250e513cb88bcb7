"""Reject files that are clearly not CSV text, with a message that says what they are.

Cheap checks, each on a bounded head of the file:

* a known binary signature in the raw bytes (images, PDFs, archives, Excel workbooks, programs);
* in the decoded head, control characters a text file never holds (NUL bytes anywhere are
  caught by the encoding scan, which reads the whole file anyway);
* markup or JSON: a text file, but a document rather than a table.

Control characters are counted after decoding because UTF-16 text is full of zero and
control-range bytes that are not control characters at all.

A file with one column is *not* rejected: a list of e-mails or ids is a legitimate table.
Only the shapes above count as "clearly not CSV".
"""

from __future__ import annotations

import re

from service.errors import NotCsvError

from . import texts
from .texts import N_

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", N_("a PNG image")),
    (b"\xff\xd8\xff", N_("a JPEG image")),
    (b"GIF87a", N_("a GIF image")),
    (b"GIF89a", N_("a GIF image")),
    (b"%PDF-", N_("a PDF document")),
    (b"PK\x03\x04", N_("an Excel workbook (.xlsx) or another ZIP archive")),
    (b"PK\x05\x06", N_("an empty ZIP archive")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", N_("an old-format Excel or Word file (.xls/.doc)")),
    (b"\x1f\x8b", N_("a gzip archive")),
    (b"7z\xbc\xaf\x27\x1c", N_("a 7-Zip archive")),
    (b"Rar!\x1a\x07", N_("a RAR archive")),
    (b"\xfd7zXZ\x00", N_("an xz archive")),
    (b"\x28\xb5\x2f\xfd", N_("a zstd archive")),
    (b"SQLite format 3\x00", N_("an SQLite database")),
    (b"\x7fELF", N_("a program")),
    (b"MZ\x90\x00", N_("a Windows program")),
)

# C0 control characters other than tab, LF, CR and ESC. Form feed and vertical tab are rare
# but legal in text, so they count only through the ratio.
_CONTROL_CHARS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f]")
# 1 %: a few stray control characters in a text export are tolerable; a binary file has far
# more (about 10 % of random bytes fall in this class).
_MAX_CONTROL_SHARE = 0.01

_MARKUP = re.compile(r"\s*<(?:!doctype|html|\?xml|svg|head|body|table|rss|feed)\b", re.IGNORECASE)
_JSON = re.compile(r"\s*(?:\{\s*\"|\[\s*[\[{\"])")


def _not_csv(what: str, detail: str) -> NotCsvError:
    return NotCsvError(detail, user_message=texts.NOT_CSV.format(what=what))


def check_signature(head: bytes) -> None:
    """Raise :class:`NotCsvError` if the first bytes of a file are a known binary format's."""
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise _not_csv(what, f"binary signature {signature!r}")


def nul_bytes_error(line: int) -> NotCsvError:
    """The error for a NUL byte: text never contains one, binary files nearly always do."""
    return NotCsvError(
        f"NUL byte on line {line}",
        user_message=texts.NUL_BYTES.format(line=f"{line:,}"),
    )


def check_text_sample(text: str) -> None:
    """Raise :class:`NotCsvError` if decoded text is binary, a markup or a JSON document."""
    control = len(_CONTROL_CHARS.findall(text))
    if text and control / len(text) > _MAX_CONTROL_SHARE:
        raise NotCsvError(
            f"{control} control characters in the first {len(text)}",
            user_message=texts.BINARY,
        )
    if _MARKUP.match(text):
        raise _not_csv(N_("an HTML or XML document"), "markup document")
    if _JSON.match(text):
        raise _not_csv(N_("a JSON document"), "JSON document")
