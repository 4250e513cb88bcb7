"""Encoding detection over the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.csvkit.encoding import CHUNK_BYTES, detect_encoding
from service.errors import NotCsvError


def _detect(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return detect_encoding(path).codec


def test_russian_text_is_windows_1251_and_western_text_windows_1252(in_dir: Path) -> None:
    assert _detect(in_dir / "ru.csv", "имя,город\nЁжик,Тверь\n".encode("cp1251")) == "cp1251"
    assert _detect(in_dir / "de.csv", "Name,Straße\nMüller,Köln\n".encode("cp1252")) == "cp1252"


def test_invalid_utf8_after_the_first_chunk_is_found(in_dir: Path) -> None:
    """The byte that decides is beyond the first megabyte: the scan must reach it."""
    data = b"a,b\n" + b"1,2\n" * (CHUNK_BYTES // 4 + 10) + "Жук,Щука\n".encode("cp1251")
    assert _detect(in_dir / "late.csv", data) == "cp1251"


def test_multibyte_character_split_across_chunks_is_still_utf8(in_dir: Path) -> None:
    prefix = b"a\n" + b"x" * (CHUNK_BYTES - 3)  # the 2-byte "Ж" straddles the chunk boundary
    assert _detect(in_dir / "split.csv", prefix + "Ж\n".encode()) == "utf-8"


def test_nul_byte_far_into_the_file_is_found_with_its_line(in_dir: Path) -> None:
    data = b"a,b\n" + b"1,2\n" * (CHUNK_BYTES // 2) + b"3,\x00\n"
    with pytest.raises(NotCsvError) as caught:
        _detect(in_dir / "nul.csv", data)
    assert f"first on line {CHUNK_BYTES // 2 + 2:,}" in caught.value.user_message


def test_nul_characters_in_utf16_text_are_found(in_dir: Path) -> None:
    with pytest.raises(NotCsvError):
        _detect(in_dir / "u16.csv", "a,b\n1,\x00\n".encode("utf-16"))


def test_file_ending_inside_a_utf8_character_is_read_as_a_legacy_encoding(in_dir: Path) -> None:
    assert _detect(in_dir / "cut.csv", b"a,b\n1,2\n3,\xd0") == "cp1252"
