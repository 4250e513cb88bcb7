"""Work out a file's text encoding by scanning all of it once, in fixed-size chunks.

Why the whole file: a 20 MB export that is plain ASCII for 19 MB and has one Cyrillic name at
the end decodes as UTF-8 for any head-only sample, then fails mid-job. One streaming pass
(C-speed decoding, ~20 ms per 20 MB) settles it before any output is written, and the same
pass finds NUL bytes anywhere in the file.

Decision order:

1. A byte-order mark wins: UTF-8 (``utf-8-sig``) or UTF-16. The rest must then decode strictly.
2. Strict UTF-8 over the whole file: ASCII is a subset, so most files end here.
3. Otherwise a one-byte legacy encoding. If valid multi-byte UTF-8 outnumbers the invalid bytes
   around the first failure, the file mixes encodings and no single choice is right: that is an
   :class:`EncodingError` naming the line. Else Cyrillic text is recognised by its shape:
   in Windows-1251 letters are bytes >= 0xC0 and Russian words are *runs* of them, while in
   Latin-1/Windows-1252 text such bytes are accented letters, mostly alone between ASCII ones.
4. A legacy encoding is only chosen if every byte in the file is defined in it; Latin-1, which
   defines all 256 bytes, is the fallback.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from service.errors import EncodingError

from . import texts
from .filetype import nul_bytes_error

# 1 MiB: large enough that per-chunk Python overhead vanishes, small enough to be a fixed cost.
CHUNK_BYTES = 1024 * 1024

_BOM_UTF8 = codecs.BOM_UTF8
_BOMS_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

_SURROGATE_ESCAPES = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
# Windows-1251 letters: А-я (0xC0-0xFF) plus Ё/ё (0xA8/0xB8).
_CP1251_LETTER_RUN = re.compile(rb"[\xa8\xb8\xc0-\xff]+")
# A share of letters-in-runs at or above this means Cyrillic words, not lone accents.
# Russian text scores ~0.95, French/German ~0.05; 0.5 is far from both.
_CYRILLIC_RUN_SHARE = 0.5

_UNDEFINED = {
    "cp1251": frozenset(b"\x98"),
    "cp1252": frozenset(b"\x81\x8d\x8f\x90\x9d"),
}
_POSSIBLY_UNDEFINED = frozenset().union(*_UNDEFINED.values())


@dataclass(frozen=True, slots=True)
class DetectedEncoding:
    """The codec to open the file with (a Python codec name, also what the profile reports)."""

    codec: str


def detect_encoding(path: Path) -> DetectedEncoding:
    """Scan ``path`` once; return its encoding or raise EncodingError / NotCsvError (NUL bytes)."""
    with path.open("rb") as stream:
        head = stream.read(4)
    if head.startswith(_BOM_UTF8):
        _scan(path, "utf-8", skip=len(_BOM_UTF8), declared=True)
        return DetectedEncoding("utf-8-sig")
    if head.startswith(_BOMS_UTF16):
        _scan(path, "utf-16", skip=0, declared=True)
        return DetectedEncoding("utf-16")
    scan = _scan(path, "utf-8", skip=0, declared=False)
    if scan.first_invalid is None:
        return DetectedEncoding("utf-8")
    return DetectedEncoding(_choose_legacy(scan))


@dataclass(slots=True)
class _Scan:
    first_invalid: int | None = None  # line number of the first byte that is not UTF-8
    failing_chunk: bytes = b""  # the chunk holding that byte: the evidence for what it is
    # Bytes some legacy codecs leave undefined, seen anywhere in the file.
    present_undefined: set[int] = field(default_factory=set)


def _scan(path: Path, codec: str, *, skip: int, declared: bool) -> _Scan:
    """One pass: NUL bytes (always fatal), strict decoding until the first failure."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    result = _Scan()
    lines_before = 0
    utf16 = codec == "utf-16"  # every ASCII character has a zero byte: check decoded text
    with path.open("rb") as stream:
        stream.seek(skip)
        while chunk := stream.read(CHUNK_BYTES):
            if not utf16 and (nul := chunk.find(b"\x00")) >= 0:
                raise nul_bytes_error(lines_before + chunk.count(b"\n", 0, nul) + 1)
            if result.first_invalid is None:
                carried = len(decoder.getstate()[0])  # bytes of a character split by the chunking
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    offset = max(exc.start - carried, 0)
                    line = lines_before + chunk.count(b"\n", 0, offset) + 1
                    if declared:
                        raise _declared_but_invalid(codec, line) from exc
                    result.first_invalid = line
                    result.failing_chunk = chunk
                else:
                    if utf16 and (nul := text.find("\x00")) >= 0:
                        raise nul_bytes_error(lines_before + text.count("\n", 0, nul) + 1)
                    if utf16:
                        lines_before += text.count("\n")
            result.present_undefined.update(b for b in _POSSIBLY_UNDEFINED if b in chunk)
            if not utf16:
                lines_before += chunk.count(b"\n")
    if result.first_invalid is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:  # the file ends in the middle of a character
            if declared:
                raise _declared_but_invalid(codec, lines_before + 1) from exc
            result.first_invalid = lines_before + 1
            with path.open("rb") as stream:
                stream.seek(max(skip, path.stat().st_size - CHUNK_BYTES))
                result.failing_chunk = stream.read()
    return result


def _choose_legacy(scan: _Scan) -> str:
    sample = scan.failing_chunk
    decoded = sample.decode("utf-8", "surrogateescape")
    invalid = len(_SURROGATE_ESCAPES.findall(decoded))
    valid_multibyte = len(_NON_ASCII.findall(decoded)) - invalid
    if valid_multibyte > invalid:
        line = scan.first_invalid or 1
        raise EncodingError(
            f"mixed encodings, first non-UTF-8 byte on line {line}",
            user_message=texts.MIXED_ENCODINGS.format(line=f"{line:,}"),
        )
    in_runs = total = 0
    for run in _CP1251_LETTER_RUN.finditer(sample):
        length = run.end() - run.start()
        total += length
        if length >= 2:
            in_runs += length
    looks_cyrillic = total > 0 and in_runs / total >= _CYRILLIC_RUN_SHARE
    candidate = "cp1251" if looks_cyrillic else "cp1252"
    if scan.present_undefined & _UNDEFINED[candidate]:
        return "latin-1"
    return candidate


def _declared_but_invalid(codec: str, line: int) -> EncodingError:
    name = "UTF-8" if codec == "utf-8" else "UTF-16"
    return EncodingError(
        f"{codec} byte-order mark but invalid {codec} on line {line}",
        user_message=texts.DECLARED_BUT_INVALID.format(name=name, line=f"{line:,}"),
    )
