"""The polars fast path reads a block exactly as the csv module does, or declines it."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from service.csvkit import CsvLimits, clean, process_csv
from service.csvkit.clean import WHITESPACE
from service.csvkit.dialect import make_reader
from service.csvkit.plainread import plain_block_lines, read_plain_block
from service.csvkit.reader import LineSource

LIMIT = 100_000


def _csv_module_rows(text: str, delimiter: str) -> tuple[list[list[str]], int]:
    """The trimmed records the csv module reads (blank lines dropped), and the line count."""
    lines = io.StringIO(text, newline="").readlines()
    rows = [[cell.strip() for cell in row] for row in make_reader(lines, delimiter, strict=True) if row]
    return rows, len(lines)


def _polars_rows(frame: pl.DataFrame) -> list[list[str]]:
    trimmed = frame.select(pl.all().str.strip_chars(WHITESPACE))
    return [list(row) for row in trimmed.rows()]


def _assert_same_or_declined(text: str, *, delimiter: str = ",", columns: int = 3) -> pl.DataFrame | None:
    frame = read_plain_block(text, delimiter=delimiter, columns=columns, max_field_chars=LIMIT)
    if frame is not None:
        rows, lines = _csv_module_rows(text, delimiter)
        assert _polars_rows(frame) == rows, text
        assert len(rows) == lines == plain_block_lines(text), text  # one record per line
        assert all(len(row) == columns for row in rows), text
    return frame


ACCEPTED = {
    "quotes at field boundaries": 'a,"b, c","d ""e"""\n"",x,"y"\n',
    "CRLF line ends": "a,b,c\r\nd,e,f\r\n",
    "last line without a line end": "a,b,c\nd,e,f",
    "lone CR ending the last line": "a,b,c\nd,e,f\r",
    "trailing delimiters": "a,,\n,,z\n",
    "spaces before unquoted fields": "a,  b,   c\n  d ,e,f\n",
    "non-ASCII text": "Иван,Москва,東京\nZoë,São Paulo,\u00a0x\u2028y\n",
    "cp1251-decoded text": "имя,город,сумма\r\nПётр,Санкт-Петербург,-3\r\n".encode("cp1251").decode("cp1251"),
}

DECLINED = {
    "a space before a quote": 'a, "b, c",d\n',
    "a quote inside a field": 'a,ab"c,d\n',
    "text after a closing quote": 'a,"ab"c,d\n',
    "a space after a closing quote": 'a,"b" ,d\n',
    "CR-only line ends": "a,b,c\rd,e,f\r",
    "a lone CR inside a line": "a,b\rx,c\n",
    "a blank line": "a,b,c\n\nd,e,f\n",
    "a blank CRLF line": "a,b,c\r\n\r\nd,e,f\r\n",
    "a whitespace-only line": "a,b,c\n   \nd,e,f\n",
    "a line break inside quotes": 'a,"b\nc",d\n',
    "a CRLF inside quotes": 'a,"b\r\nc",d\n',
    "an unclosed quote": 'a,"b,c\nd,e,f\n',
    "a row short by one": "a,b,c\nd,e\n",
    "a row long by one": "a,b,c\nd,e,f,g\n",
    "a byte-order mark first": "\ufeffa,b,c\n",
}


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_plain_blocks_are_read_as_the_csv_module_reads_them(text: str) -> None:
    assert _assert_same_or_declined(text) is not None


@pytest.mark.parametrize("text", DECLINED.values(), ids=DECLINED.keys())
def test_blocks_polars_would_read_differently_are_declined(text: str) -> None:
    assert read_plain_block(text, delimiter=",", columns=3, max_field_chars=LIMIT) is None


def test_other_delimiters_and_one_column_files() -> None:
    assert _assert_same_or_declined('a;"b;c";d\n1;2;3\n', delimiter=";") is not None
    assert _assert_same_or_declined('a\t"b\tc"\td\n', delimiter="\t") is not None
    assert _assert_same_or_declined('a|b|"c|d"\n', delimiter="|") is not None
    assert _assert_same_or_declined("a;b,c;d\n", delimiter=";") is not None
    # No delimiter: a blank line would become a row, so the fast path never takes such files.
    assert read_plain_block("a\nb\n", delimiter=None, columns=1, max_field_chars=LIMIT) is None


def test_a_cell_over_the_field_limit_is_left_to_the_record_reader() -> None:
    text = "a,b,c\n" + "x" * 50 + ",y,z\n"
    assert read_plain_block(text, delimiter=",", columns=3, max_field_chars=50) is not None
    assert read_plain_block(text, delimiter=",", columns=3, max_field_chars=49) is None
    # The limit is in characters: 50 of "é" are 100 bytes, still within a limit of 50.
    text = "a,b,c\n" + "é" * 50 + ",y,z\n"
    assert read_plain_block(text, delimiter=",", columns=3, max_field_chars=50) is not None
    assert read_plain_block(text, delimiter=",", columns=3, max_field_chars=49) is None


@pytest.mark.parametrize("seed", range(6))
def test_random_blocks_are_read_identically_or_declined(seed: int) -> None:
    """Lines built from the characters that trip parsers: every accepted block must match."""
    rng = random.Random(seed)
    pieces = ["a", "b", " ", ",", '"', '""', "\r", "\r\n", "\n", "ж", "\u00a0", "\t"]
    accepted = 0
    for _ in range(1500):
        if rng.random() < 0.5:
            # Mostly well-formed lines, so that many blocks are accepted and compared.
            lines = []
            for _ in range(rng.randrange(1, 5)):
                cells = [
                    rng.choice(["", "a", " b", "ж ж", f'"{rng.choice(["", "x,y", "qq", " "])}"'])
                    for _ in range(3)
                ]
                lines.append(",".join(cells) + rng.choice(["\n", "\r\n"]))
            text = "".join(lines)
        else:
            text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 25)))
        if _assert_same_or_declined(text) is not None:
            accepted += 1
    assert accepted > 300


def _tricky_file(path: Path) -> Path:
    """Plain stretches with every kind of trouble between them, across block boundaries."""
    rng = random.Random(7)
    lines = ["id,name,note\r\n"]
    trouble = [*DECLINED.values(), 'x, "y, z",w\n', 'q,ab"c,r\n', "s,t,u\r"]
    for index in range(3000):
        if index % 1000 > 500 and index % 37 == 0:  # two clean stretches of 500 lines each
            lines.append(rng.choice(trouble))
        else:
            note = rng.choice(['"a, b"', "", "plain", '"say ""hi"""', "-1", "=1+2", "NULL"])
            lines.append(f"{index},name {rng.randrange(50)},{note}" + rng.choice(["\n", "\r\n"]))
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


def test_the_pass_gives_the_same_outputs_with_the_fast_path_off(
    in_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _tricky_file(in_dir / "tricky.csv")
    outputs = []
    accepted: list[pl.DataFrame] = []

    def counted(*args: Any, **kwargs: Any) -> pl.DataFrame | None:
        frame = read_plain_block(*args, **kwargs)
        if frame is not None:
            accepted.append(frame)
        return frame

    for name, fast in (("fast", True), ("off", False)):
        out = tmp_path / name
        out.mkdir()
        with monkeypatch.context() as patch:
            patch.setattr(clean, "PLAIN_BLOCK_CHARS", 4096)  # many blocks, both paths in turn
            patch.setattr(clean, "read_plain_block", counted if fast else lambda *args, **kwargs: None)
            result = process_csv(path, out, CsvLimits())
        outputs.append((result.profile, result.cleaned_path.read_bytes(), result.profile_path.read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0]["malformed"]["rows"] > 0  # the trouble reached the record reader
    assert sum(frame.height for frame in accepted) > 500  # and the plain stretches polars


@pytest.mark.parametrize("seed", range(4))
def test_text_blocks_and_line_blocks_serve_the_lines_the_stream_gives(seed: int) -> None:
    """Text blocks taken (counted) or handed back, line blocks, single lines, in any order."""
    rng = random.Random(seed)
    pieces = ["a", ",", '"', "\r", "\n", "\r\n", "ж", "\x85", "\u2028", "long" * 5]
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(40)))
        expected = io.StringIO(text, newline="").readlines()
        source = LineSource(io.StringIO(text, newline=""))
        served: list[str] = []
        while True:
            step = rng.randrange(3)
            if step == 0 and not source.has_pushed_lines:
                block = source.read_text(rng.randrange(1, 9))
                if not block and not source.has_pushed_lines:
                    break
                if rng.random() < 0.5:
                    source.unread_text(block)
                else:
                    source.advance(len(io.StringIO(block, newline="").readlines()))
                    served.append(block)
            elif step == 1:
                lines = source.read_block(rng.randrange(1, 9))
                if not lines and not source.has_pushed_lines:
                    break
                served.extend(lines)
            else:
                line = next(source, None)
                if line is None:
                    break
                served.append(line)
        served.extend(source.read_block(10**6))
        assert "".join(served) == text
        assert source.next_line == len(expected) + 1, text
        assert list(source) == [] and source.read_block(5) == [] and source.read_text(5) == ""


def test_a_text_block_ends_at_a_line_end_and_a_long_line_is_pushed_back() -> None:
    source = LineSource(io.StringIO("ab\r\ncd\ref\n" + "x" * 50 + "\ny\n", newline=""))
    assert source.read_text(4) == "ab\r\n"  # the CR read is the first half of a CRLF
    assert source.read_text(5) == "cd\r"
    assert source.read_text(4) == "ef\n"
    assert source.read_text(10) == "" and source.pushed_lines == 1  # too long for a block
    assert source.read_block(1) == ["x" * 50 + "\n"]
    assert source.read_text(10) == "y\n"
