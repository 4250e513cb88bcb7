"""Every fixture and messy file the csvkit tests use, as named cases for the golden-output test.

``golden/outputs.json`` holds what the record-by-record pass (the engine before the columnar
fast path) produced for each case: the cleaned file's SHA-256, the profile CSV, the profile
and the summary, or the error kind and message. Regenerate it only when a behaviour change is
intended: ``.venv/bin/python -m tests.unit.csvkit.golden_cases``.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.csvkit import CsvLimits, process_csv
from service.errors import InputError

from . import fixtures
from .fixtures import TABLES, encode_csv, write_csv, write_text

GOLDEN_PATH = Path(__file__).parent / "golden" / "outputs.json"

Case = Callable[[Path], tuple[Path, CsvLimits]]
CASES: dict[str, Case] = {}


def case(name: str, limits: CsvLimits | None = None) -> Callable[[Callable[[Path], Path]], None]:
    def register(build: Callable[[Path], Path]) -> None:
        CASES[name] = lambda directory: (build(directory), limits or CsvLimits())

    return register


def _add_builders() -> None:
    plain: dict[str, Callable[[Path], Path]] = {
        "png": fixtures.png_file,
        "xlsx": fixtures.xlsx_file,
        "empty": fixtures.empty_file,
        "whitespace": fixtures.whitespace_file,
        "binary": fixtures.binary_file,
        "one_column": fixtures.one_column_file,
        "ragged": fixtures.ragged_file,
        "unclosed_quote": fixtures.unclosed_quote_file,
        "broken_quoting": fixtures.broken_quoting_file,
        "huge_field": fixtures.huge_field_file,
        "wide": fixtures.wide_file,
        "nul_bytes": fixtures.nul_bytes_file,
        "formulas": fixtures.formula_file,
    }
    for name, build in plain.items():
        case(name)(build)
    case("oversized", CsvLimits(max_bytes=1024 * 1024))(lambda d: fixtures.oversized_file(d, 1024 * 1024))
    case("swallowing_quote")(lambda d: fixtures.unclosed_quote_swallowing_file(d, rows=10_000))
    case("huge_field_120k")(lambda d: fixtures.huge_field_file(d, chars=120_000))
    case("huge_field_200k_allowed", CsvLimits(max_field_chars=300_000))(
        lambda d: fixtures.huge_field_file(d, chars=200_000)
    )
    case("too_many_rows", CsvLimits(max_rows=1_000))(lambda d: fixtures.generated_table(d, 200_000))
    case("generated_3mb")(lambda d: fixtures.generated_table(d, 3 * 1024 * 1024))
    case("generated_wide_notes")(lambda d: fixtures.generated_table(d, 2 * 1024 * 1024, note_words=50))
    for codec, table, delimiter in [
        ("utf-8", "utf-8", ","),
        ("utf-8-sig", "utf-8", ";"),
        ("utf-16", "utf-8", "\t"),
        ("cp1251", "cp1251", ";"),
        ("cp1251", "cp1251", ","),
        ("cp1252", "cp1252", "|"),
        ("cp1252", "cp1252", "\t"),
    ]:
        for repeat in (1, 300):
            name = f"table_{codec}_{ord(delimiter)}_x{repeat}"
            rows = TABLES[table][:1] + TABLES[table][1:] * repeat
            case(name)(
                lambda d, r=rows, c=codec, s=delimiter: write_csv(d / "t.csv", r, encoding=c, delimiter=s)
            )
    for line_end in ("\n", "\r\n", "\r"):
        text = encode_csv(TABLES["utf-8"] * 50).replace("\r\n", line_end)
        case(f"line_end_{ord(line_end[0])}{len(line_end)}")(lambda d, t=text: write_text(d / "t.csv", t))


_add_builders()

INLINE_TEXTS: dict[str, str] = {
    "header_only": "name,email\n",
    "html": "<!DOCTYPE html>\n<html><body>a,b</body></html>\n",
    "json": '[{"a": 1, "b": 2}]\n',
    "semicolon_counts": "a;b\n1;x\n1;x\n2;y\n3\n",
    "commas_in_one_column": "name\nAda Lovelace\nSmith, John\nAlan Turing\nGrace Hopper\n",
    "trim_and_spaced_quotes": 'a , b\n  1 , "x, y"  \n2,  z\n',
    "typed_header": "id,price,when\n1,2.5,2024-01-01\n2,3,2024-01-02\n",
    "no_header": "1;Ivan;12.5;2024-01-31\n2;Petr;-3;2024-02-29\n",
    "kinds": (
        "int,float,bool,date,datetime,text,nothing,mixed\n1,1.5,true,2024-01-31,2024-01-31 10:00,a,,1\n"
        "-2,2,No,31.01.2024,2024-01-31T10:00:05Z,b,NULL,x\n+3,-1e3,да,01/31/2024,2024-02-01,c,n/a,2024-01-01\n"
    ),
    "numbers": "n,x\n10,0.5\n-4,1.5\n7,\n,-2\n",
    "big_ints": "id\n12345678901234567890\n12345678901234567891\n",
    "five_thousand_digits": "big,n\n" + "9" * 5_000 + ",1\n1,2\n",
    "null_tokens": "k,v\n0,1\n1,\n2,NULL\n3,none\n4,N/A\n5,#N/A\n6,nan\n7,2\n",
    "prose_too_long": 'id,text\n1,"'
    + "".join(f"paragraph {i}: {'word, ' * (i % 3)}more\n" for i in range(5_000))
    + '"\n',
    "mostly_malformed": "id,name,value\n"
    + "".join(f"{i},name{i},{i * 2}\n" for i in range(600))
    + "".join(f"{i},name{i},{i * 2},extra{i}\n" for i in range(700)),
    "blank_lines_and_spaces": "a,b\n\n1,2\n   \n\r\n3,4\n , \n1,2\n",
    "zero_signs": "x,y\n0.0,-0\n-0.0,0\n1,-0.0\n",
    "decimal_comma_semicolon": "товар;цена\nхлеб;45,50\nмолоко;89,9\n-1;+0,5\n",
    "trailing_delimiters": "a,b,c\n1,2,3,\n4,5,6,,,\n7,8\n",
    "pandas_index": ",a,b\n0,x,1\n1,y,2\n",
    "whitespace_cells": "a,b\n\u00a0x\u00a0,\x1fy\x1f\n\u2003z,\u3000\nq,r\n",
}


def _add_inline() -> None:
    for name, text in INLINE_TEXTS.items():
        case(name)(lambda d, t=text: write_text(d / "t.csv", t))
    case("mixed_encodings")(
        lambda d: _bytes(d, "name,city\nИван,Москва\nПётр,Казань\n".encode() + "Анна,Омск\n".encode("cp1251"))
    )
    case("bom_invalid")(lambda d: _bytes(d, b"\xef\xbb\xbfa,b\n1,\xff\n"))
    case("latin1")(
        lambda d: write_csv(
            d / "t.csv", [["name", "code"], ["Zoë", "\x81x"], ["Jürgen", "y"]], encoding="latin-1"
        )
    )
    case("cyrillic_at_the_end")(
        lambda d: write_csv(
            d / "t.csv",
            [["id", "city"]] + [[str(i), "Paris"] for i in range(60_000)] + [["x", "Москва"]],
            encoding="cp1251",
        )
    )
    case("noise_without_nul")(lambda d: _bytes(d, bytes(b for b in random.Random(4).randbytes(4096) if b)))


_add_inline()


def _messy_big(directory: Path, seed: int, size: int) -> Path:
    """Mostly clean rows with every kind of trouble scattered through: clean stretches and
    messy ones alternate, so a streaming engine has to switch between its paths many times."""
    rng = random.Random(seed)
    parts = ["id; name ;amount;when;note\r\n"]
    written = 0
    row = 0
    previous = ""
    while written < size:
        row += 1
        roll = rng.random()
        amount = f"{rng.uniform(-1e4, 1e4):.2f}".replace(".", ",")
        customer = rng.randrange(3000)
        when = f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(0, 9)}"
        line = f"{row};name {customer};{amount};{when};x{rng.random():.5f}\r\n"
        if roll < 0.002:
            line = f'{row};"multi\nline; cell";1;2024-01-01;"a ""quoted"" word"\r\n'
        elif roll < 0.003:
            line = f"{row};short\r\n"
        elif roll < 0.004:
            line = f"{row};a;b;c;d;e;f\r\n"
        elif roll < 0.005:
            line = f'{row};"ab"c;1;x;y\r\n'
        elif roll < 0.0055:
            line = f'{row};"never closed;1;x;y\r\n'
        elif roll < 0.007:
            line = "\r\n"
        elif roll < 0.008:
            line = f"{row};=cmd|' /C calc'!A0;-1,5;@x;+7\r\n"
        elif roll < 0.02:
            line = previous or line
        elif roll < 0.03:
            line = f"  {row} ;\tname {rng.randrange(30)}\t; {amount} ;;NULL\r\n"
        elif roll < 0.031:
            line = f"{row};;;;;;\r\n"
        elif roll < 0.0315:
            line = ";;;;\r\n"
        elif roll < 0.032:
            line = f"{row};lone\rcarriage;1;2;3\r\n"
        parts.append(line)
        written += len(line)
        previous = line
    return _bytes(directory, "".join(parts).encode("cp1251", errors="replace"))


case("messy_big_a")(lambda d: _messy_big(d, 1, 1_500_000))
case("messy_big_b")(lambda d: _messy_big(d, 2, 400_000))


def _duplicates_across_batches(directory: Path) -> Path:
    """Rows repeating thousands of lines apart, blank-padded variants of the same row."""
    rng = random.Random(3)
    lines = ["k,v,w\n"]
    for i in range(60_000):
        n = rng.randrange(20_000)
        lines.append(
            f"{n},{n % 7},{'t' if n % 2 else 'f'}\n"
            if i % 3
            else f" {n} , {n % 7} ,{'t' if n % 2 else 'f'}\n"
        )
    return write_text(directory / "dups.csv", "".join(lines))


case("duplicates_across_batches")(_duplicates_across_batches)


def _bytes(directory: Path, data: bytes) -> Path:
    path = directory / "t.csv"
    path.write_bytes(data)
    return path


def run_case(name: str, in_dir: Path, out_dir: Path) -> dict[str, Any]:
    """What the pass makes of one case, in the form ``golden/outputs.json`` stores."""
    path, limits = CASES[name](in_dir)
    try:
        result = process_csv(path, out_dir, limits)
    except InputError as exc:
        return {
            "error": exc.kind,
            "message": exc.user_message,
            "outputs": sorted(p.name for p in out_dir.iterdir()),
        }
    return {
        "cleaned_sha256": hashlib.sha256(result.cleaned_path.read_bytes()).hexdigest(),
        "profile_csv": result.profile_path.read_text(encoding="utf-8-sig"),
        "profile": result.profile,
        "summary": result.summary_text,
        "fields": [
            result.rows_in,
            result.rows_out,
            result.columns,
            result.duplicates_removed,
            result.malformed_rows,
            result.bytes_in,
            result.bytes_out,
            result.encoding,
            result.delimiter,
            result.has_header,
        ],
    }


def main() -> None:
    import tempfile

    outputs = {}
    for name in CASES:
        with tempfile.TemporaryDirectory() as workdir:
            root = Path(workdir)
            (root / "in").mkdir()
            (root / "out").mkdir()
            outputs[name] = run_case(name, root / "in", root / "out")
    GOLDEN_PATH.write_text(
        json.dumps(outputs, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"{len(outputs)} cases written to {GOLDEN_PATH}")


if __name__ == "__main__":
    main()
