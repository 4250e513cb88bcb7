"""Output files that appear complete or not at all.

Each output is written to a hidden temporary file in the output directory and renamed into
place only when the whole job has succeeded (``os.replace`` is atomic within a directory), so a
failure at any point, including an interrupt, leaves no partial file for anyone to pick up.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import secrets
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _csv import Writer

# UTF-8 with a byte-order mark: Excel, which most of our users open results in, reads BOM-less
# UTF-8 in the legacy ANSI code page and garbles Cyrillic. LibreOffice, Google Sheets, pandas
# (encoding="utf-8-sig") and Python's csv with that codec all read it.
OUTPUT_ENCODING = "utf-8-sig"
# RFC 4180 line breaks.
OUTPUT_LINE_TERMINATOR = "\r\n"

_UNSAFE_NAME_CHARS = re.compile(r"[^\w.-]+")
_MAX_STEM_CHARS = 80


def output_stem(input_path: Path) -> str:
    """A safe file-name stem derived from the input's name (``sales 2024.csv`` -> ``sales_2024``)."""
    stem = _UNSAFE_NAME_CHARS.sub("_", input_path.stem).strip("._")
    return stem[:_MAX_STEM_CHARS] or "data"


class PendingOutputs:
    """Temporary files in ``out_dir`` that :meth:`commit` renames into place together."""

    def __init__(self, out_dir: Path) -> None:
        self._out_dir = out_dir
        self._pending: list[tuple[Path, Path, IO[str]]] = []
        self._committed: list[Path] = []

    def open_csv(self, final_name: str) -> tuple[Path, IO[str]]:
        """Open a text stream for ``final_name``; returns the final path and the stream."""
        final = self._out_dir / final_name
        temp = self._out_dir / f".{final_name}.{secrets.token_hex(6)}.tmp"
        stream = temp.open("x", encoding=OUTPUT_ENCODING, newline="")
        self._pending.append((temp, final, stream))
        return final, stream

    def commit(self) -> None:
        for _, _, stream in self._pending:
            stream.close()
        for temp, final, _ in self._pending:
            os.replace(temp, final)
            self._committed.append(final)
        self._pending.clear()

    def discard(self) -> None:
        """Remove every file this object created, committed or not."""
        for temp, _, stream in self._pending:
            with contextlib.suppress(OSError):
                stream.close()
            temp.unlink(missing_ok=True)
        for final in self._committed:
            final.unlink(missing_ok=True)
        self._pending.clear()
        self._committed.clear()


def csv_writer(stream: IO[str]) -> Writer:
    """The one output dialect: comma, minimal RFC 4180 quoting, CRLF."""
    return csv.writer(stream, lineterminator=OUTPUT_LINE_TERMINATOR, quoting=csv.QUOTE_MINIMAL)
