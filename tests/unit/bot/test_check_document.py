"""check_document: what the bot refuses from Telegram's metadata alone, before downloading."""

from __future__ import annotations

import pytest
from aiogram.types import Document

from service.bot.uploads import check_document
from service.errors import EmptyFileError, FileTooLargeError, NotCsvError

MiB = 1024 * 1024
LIMIT = 20 * MiB


def doc(file_name: str | None, mime_type: str | None, file_size: int | None = 100) -> Document:
    return Document(
        file_id="f1", file_unique_id="u1", file_name=file_name, mime_type=mime_type, file_size=file_size
    )


@pytest.mark.parametrize(
    ("file_name", "mime_type"),
    [
        ("sales.csv", "text/csv"),
        ("SALES.CSV", None),
        ("export.tsv", "application/octet-stream"),
        ("list.txt", "text/plain"),
        ("data.psv", None),
        ("export", "text/csv"),  # no extension, but the phone says it is a CSV
        (None, "application/vnd.ms-excel"),  # what Windows labels .csv files as
    ],
)
def test_csv_like_names_or_types_are_accepted(file_name: str | None, mime_type: str | None) -> None:
    check_document(doc(file_name, mime_type), LIMIT)


@pytest.mark.parametrize(
    ("file_name", "mime_type"),
    [
        ("photo.png", "image/png"),
        ("book.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("archive.zip", "application/zip"),
        # octet-stream says nothing: without a CSV-like name it is not taken on trust.
        ("blob", "application/octet-stream"),
        (None, None),
    ],
)
def test_other_files_are_refused_as_not_csv(file_name: str | None, mime_type: str | None) -> None:
    with pytest.raises(NotCsvError) as refused:
        check_document(doc(file_name, mime_type), LIMIT)
    assert "doesn't look like a CSV" in refused.value.user_message


def test_the_refusal_names_the_file() -> None:
    with pytest.raises(NotCsvError) as refused:
        check_document(doc("holiday.jpg", "image/jpeg"), LIMIT)
    assert refused.value.user_message.startswith("holiday.jpg doesn't look like a CSV")


def test_a_file_over_the_limit_is_refused_with_both_sizes() -> None:
    with pytest.raises(FileTooLargeError) as refused:
        check_document(doc("big.csv", "text/csv", 45 * MiB), LIMIT)
    assert refused.value.kind == "too_large"
    assert "This file is 45 MB; the limit is 20 MB" in refused.value.user_message


def test_a_file_just_over_the_limit_shows_exact_sizes_not_equal_rounded_ones() -> None:
    with pytest.raises(FileTooLargeError) as refused:
        check_document(doc("big.csv", "text/csv", LIMIT + 1), LIMIT)
    assert (
        "This file is 20,971,521 bytes; the limit is 20,971,520 bytes (20 MB)" in refused.value.user_message
    )


def test_a_file_exactly_at_the_limit_is_accepted() -> None:
    check_document(doc("big.csv", "text/csv", LIMIT), LIMIT)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(EmptyFileError) as refused:
        check_document(doc("empty.csv", "text/csv", 0), LIMIT)
    assert "empty" in refused.value.user_message


def test_an_unknown_size_is_accepted_and_left_to_the_download_check() -> None:
    check_document(doc("data.csv", "text/csv", None), LIMIT)


def test_the_type_is_judged_before_the_size() -> None:
    """A 2 GB video is "not a CSV", not "too large": the more useful thing to tell the user."""
    with pytest.raises(NotCsvError):
        check_document(doc("movie.mp4", "video/mp4", 2000 * MiB), LIMIT)
