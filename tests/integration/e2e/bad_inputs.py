"""Bad uploads, generated: what people really send a CSV bot, and how each must end.

Each case builds its bytes in code (no opaque binaries in the repository) and states where it is
stopped (the bot, from Telegram's metadata, before downloading; or the worker, from the content),
the job status and error kind it leaves, and a fragment of the text the user must get — the part
that names the problem.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

MiB = 1024 * 1024
#: The service under test runs with these limits (tests/integration/e2e/test_bad_input.py).
MAX_UPLOAD_BYTES = 2 * MiB
MAX_FIELD_CHARS = 64 * 1024
MAX_COLUMNS = 500

FORMULA_PAYLOADS = (
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "=1+1",
)


@dataclass(frozen=True)
class BadInput:
    name: str
    file_name: str
    mime_type: str
    make: Callable[[], bytes]
    #: "bot": refused from metadata, no job row. "worker": a job that ends ``job_status``.
    stopped_by: Literal["bot", "worker"]
    #: The job's final status ("rejected", or "done" for input the service repairs).
    job_status: str | None
    #: The stable error kind: in the job row, the metric label and the log line.
    error_kind: str | None
    #: What the user's final message must say.
    says: str

    def __str__(self) -> str:
        return self.name


def png_image() -> bytes:
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    return header + random.Random(1).randbytes(512)


def random_binary() -> bytes:
    """Noise without NUL bytes, so it is caught as binary by its control characters alone."""
    return bytes(b for b in random.Random(2).randbytes(8192) if b)


def over_the_size_limit() -> bytes:
    """A valid CSV one row longer than MAX_UPLOAD_BYTES."""
    row = b"1,2,3\n"
    return b"a,b,c\n" + row * (MAX_UPLOAD_BYTES // len(row) + 1)


def one_column() -> bytes:
    return ("email\n" + "".join(f"user{i}@example.com\n" for i in range(20))).encode()


def ragged_rows() -> bytes:
    """Header of 3; line 3 is short (padded), line 5 too long (dropped)."""
    return b"a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n13,14,15\n"


def unterminated_quote() -> bytes:
    """Line 3 opens a quote that is never closed."""
    return b'id,comment\n1,fine\n2,"broken\n3,after\n4,"quoted, ok"\n'


def megabyte_field() -> bytes:
    return b'id,blob\n1,"' + b"x" * MiB + b'"\n2,small\n'


def ten_thousand_columns() -> bytes:
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join(str(i) for i in range(10_000))
    return f"{header}\n{row}\n".encode()


def nul_bytes() -> bytes:
    return b"a,b\n1,2\n3,\x004\n5,6\n"


def _table_then(row: str) -> bytes:
    """600 ordinary rows (past the head the dialect is sniffed from), then ``row`` on line 602."""
    body = "".join(f"{i},name{i},{i * 2}\n" for i in range(600))
    return f"id,name,value\n{body}{row}\n".encode()


def late_wide_row() -> bytes:
    """Line 602 has 300,000 numeric cells: before the per-record check it cost ~60 MB of RSS."""
    return _table_then(",".join(str(i % 1000) for i in range(300_000)))


def late_row_of_empty_cells() -> bytes:
    """Line 602 is a million delimiters: a million empty cells if parsed."""
    return _table_then("," * 1_000_000)


def formula_injection() -> bytes:
    rows = ["id,payload,amount"]
    for i, payload in enumerate(FORMULA_PAYLOADS, start=1):
        quoted = '"' + payload.replace('"', '""') + '"'
        rows.append(f"{i},{quoted},-12.5")
    return ("\n".join(rows) + "\n").encode()


CASES: tuple[BadInput, ...] = (
    BadInput(
        "png_named_png",
        "photo.png",
        "image/png",
        png_image,
        "bot",
        None,
        "not_csv",
        "doesn't look like a CSV",
    ),
    BadInput(
        "png_named_csv",
        "table.csv",
        "text/csv",
        png_image,
        "worker",
        "rejected",
        "not_csv",
        "That file is a PNG image, not CSV",
    ),
    BadInput("empty_file", "empty.csv", "text/csv", bytes, "bot", None, "empty_file", "That file is empty"),
    BadInput(
        "binary_data",
        "data.csv",
        "application/octet-stream",
        random_binary,
        "worker",
        "rejected",
        "not_csv",
        "binary data, not CSV text",
    ),
    BadInput(
        "over_size_limit",
        "big.csv",
        "text/csv",
        over_the_size_limit,
        "bot",
        None,
        "too_large",
        "This file is 2,097,162 bytes; the limit is 2,097,152 bytes (2 MB)",
    ),
    BadInput(
        "one_column", "emails.csv", "text/csv", one_column, "worker", "done", None, "20 rows × 1 column"
    ),
    BadInput(
        "ragged_rows",
        "ragged.csv",
        "text/csv",
        ragged_rows,
        "worker",
        "done",
        None,
        "2 malformed rows (lines 3, 5)",
    ),
    BadInput(
        "unterminated_quote",
        "quote.csv",
        "text/csv",
        unterminated_quote,
        "worker",
        "done",
        None,
        "with a quote never closed",
    ),
    BadInput(
        "megabyte_field",
        "blob.csv",
        "text/csv",
        megabyte_field,
        "worker",
        "rejected",
        "field_too_long",
        "longer than 65,536 characters",
    ),
    BadInput(
        "ten_thousand_columns",
        "wide.csv",
        "text/csv",
        ten_thousand_columns,
        "worker",
        "rejected",
        "too_many_columns",
        "10,000 columns; the limit is 500",
    ),
    BadInput(
        "late_wide_row",
        "late_wide.csv",
        "text/csv",
        late_wide_row,
        "worker",
        "rejected",
        "too_many_columns",
        "The row on line 602 has more than 500 fields; the limit is 500 columns",
    ),
    BadInput(
        "late_row_of_empty_cells",
        "late_empty.csv",
        "text/csv",
        late_row_of_empty_cells,
        "worker",
        "rejected",
        "too_many_columns",
        "The row on line 602 has more than 500 fields; the limit is 500 columns",
    ),
    BadInput(
        "nul_bytes",
        "nul.csv",
        "text/csv",
        nul_bytes,
        "worker",
        "rejected",
        "not_csv",
        "NUL bytes (first on line 3)",
    ),
    BadInput(
        "formula_injection",
        "formulas.csv",
        "text/csv",
        formula_injection,
        "worker",
        "done",
        None,
        "5 formula-like cells start with '",
    ),
)
