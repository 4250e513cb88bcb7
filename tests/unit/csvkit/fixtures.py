"""Generators for the CSV files csvkit must handle: real-world shapes and bad input.

Each builder writes one file into a directory (a test's ``tmp_path``) and returns its path, so
the cases live as code, not as opaque binary files in the repository.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from pathlib import Path

Rows = list[list[str]]

#: Tables whose text only the given encoding can carry, with the awkward cells every real
#: export has: delimiters, quotes and line breaks inside values, negative and decimal numbers.
TABLES: dict[str, Rows] = {
    "utf-8": [
        ["name", "city", "amount", "note"],
        ["Иван", "Москва", "12.5", 'said "hi", then left'],
        ["José", "São Paulo", "-3", "two\nlines"],
        ["Zoë", "東京", "7", "a; b | c\td"],
    ],
    "cp1251": [
        ["имя", "город", "сумма", "заметка"],
        ["Иван", "Москва", "12.5", 'сказал "привет", ушёл'],
        ["Пётр", "Санкт-Петербург", "-3", "две\nстроки"],
        ["Анна", "Казань", "7", "а; б | в\tг"],
    ],
    "cp1252": [
        ["name", "city", "amount", "note"],
        ["José", "São Paulo", "12.5", 'said "olá", then left'],
        ["Zoë", "Köln", "-3", "two\nlines"],
        ["François", "Genève", "7", "costs €5; b | c\td"],
    ],
}

#: The first eight bytes of every PNG file, followed by a plausible chunk.
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06" + bytes(range(256))
FORMULA_PAYLOADS = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


def encode_csv(rows: Sequence[Sequence[str]], delimiter: str = ",", line_end: str = "\r\n") -> str:
    """Rows as CSV text, quoting only where needed (what spreadsheets write)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    return buffer.getvalue()


def write_csv(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    line_end: str = "\r\n",
) -> Path:
    path.write_bytes(encode_csv(rows, delimiter, line_end).encode(encoding))
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def png_file(directory: Path) -> Path:
    return _write(directory / "picture.csv", PNG_BYTES)


def xlsx_file(directory: Path) -> Path:
    return _write(directory / "book.csv", b"PK\x03\x04\x14\x00\x06\x00" + bytes(200))


def empty_file(directory: Path) -> Path:
    return _write(directory / "empty.csv", b"")


def whitespace_file(directory: Path) -> Path:
    return _write(directory / "blank.csv", b"\r\n  \n\t\n")


def binary_file(directory: Path, size: int = 4096) -> Path:
    noise = random.Random(4).randbytes(size)  # fixed seed: the same bytes every run
    return _write(directory / "noise.csv", noise)


def oversized_file(directory: Path, limit: int) -> Path:
    """A valid CSV one line longer than ``limit`` bytes."""
    line = b"1,2,3\n"
    return _write(directory / "big.csv", b"a,b,c\n" + line * (limit // len(line) + 1))


def one_column_file(directory: Path) -> Path:
    emails = ["email"] + [f"user{i}@example.com" for i in range(20)]
    return write_text(directory / "emails.csv", "\n".join(emails) + "\n")


def ragged_file(directory: Path) -> Path:
    """Header of 3; a short row (line 3), a long row with data (line 5), a trailing-comma row."""
    text = "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n13,14,15,,\n"
    return write_text(directory / "ragged.csv", text)


def unclosed_quote_file(directory: Path) -> Path:
    """Line 3 opens a quote that is never closed."""
    text = 'id,comment\n1,fine\n2,"broken\n3,after\n4,"quoted, ok"\n'
    return write_text(directory / "unclosed.csv", text)


def unclosed_quote_swallowing_file(directory: Path, rows: int) -> Path:
    """An unclosed quote on line 2 followed by more text than a cell may hold."""
    body = "".join(f"{i},row number {i}\n" for i in range(rows))
    return write_text(directory / "swallow.csv", f'id,comment\n0,"oops\n{body}')


def broken_quoting_file(directory: Path) -> Path:
    """Line 3 has text after a closing quote; line 4 is well-formed."""
    text = 'id,comment\n1,fine\n2,"ab"cd\n3,ok\n'
    return write_text(directory / "quoting.csv", text)


def huge_field_file(directory: Path, chars: int = 1024 * 1024) -> Path:
    return write_text(directory / "huge.csv", f'id,blob\n1,"{"x" * chars}"\n2,small\n')


def wide_file(directory: Path, columns: int = 10_000) -> Path:
    header = ",".join(f"c{i}" for i in range(columns))
    row = ",".join(str(i) for i in range(columns))
    return write_text(directory / "wide.csv", f"{header}\n{row}\n")


def nul_bytes_file(directory: Path) -> Path:
    """A CSV with one NUL byte on line 3."""
    return _write(directory / "nul.csv", b"a,b\n1,2\n3,\x004\n5,6\n")


def formula_file(directory: Path) -> Path:
    rows = [["id", "payload", "amount"]]
    rows += [[str(i), payload, "-12.5"] for i, payload in enumerate(FORMULA_PAYLOADS, start=1)]
    rows.append([str(len(rows)), "plain", "+7"])
    return write_csv(directory / "formulas.csv", rows)


def generated_table(
    directory: Path, target_bytes: int, *, name: str = "big.csv", note_words: int = 0
) -> Path:
    """Roughly ``target_bytes`` of a realistic table: ids, categories, amounts, dates, text.

    ``note_words`` lengthens the free-text column (fewer, wider rows per megabyte). Streamed to
    disk line by line so the generator itself stays small in memory.
    """
    rng = random.Random(7)
    words = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")
    filler = "".join(f" {words[i % len(words)]}" for i in range(note_words))
    path = directory / name
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write("id,customer,amount,paid,created,comment\n")
        written, row = 0, 0
        while written < target_bytes:
            row += 1
            line = (
                f"{row},customer{rng.randrange(5000)},{rng.uniform(-500, 500):.2f},"
                f"{rng.choice(('true', 'false'))},2024-{rng.randrange(1, 13):02d}-"
                f'{rng.randrange(1, 29):02d},"note {rng.random():.8f}, with a comma{filler}"\n'
            )
            stream.write(line)
            written += len(line)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def read_output(path: Path) -> Rows:
    """The rows of a csvkit output file (UTF-8 with BOM, comma, CRLF)."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))
