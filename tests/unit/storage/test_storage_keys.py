"""Object keys are built from ids and fixed names, and only safe keys pass validation."""

from __future__ import annotations

import pytest

from service.errors import StorageRejectedError
from service.storage.keys import (
    cleaned_key,
    input_key,
    local_file_name,
    profile_key,
    validate_key,
)


def test_job_keys_follow_the_documented_layout() -> None:
    assert input_key(42, "a1b2") == "users/42/jobs/a1b2/input.csv"
    assert cleaned_key(42, "a1b2") == "users/42/jobs/a1b2/cleaned.csv"
    assert profile_key(42, "a1b2") == "users/42/jobs/a1b2/profile.csv"


@pytest.mark.parametrize("job_id", ["", "../x", "a/b", "a.b", "x" * 65, "-lead", "ü"])
def test_job_ids_that_could_change_the_path_are_refused(job_id: str) -> None:
    with pytest.raises(ValueError):
        input_key(1, job_id)


@pytest.mark.parametrize("user_id", [-1, True, 1.5, "7"])
def test_user_ids_must_be_non_negative_ints(user_id: object) -> None:
    with pytest.raises(ValueError):
        input_key(user_id, "job")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key",
    ["users/1/jobs/j/input.csv", "a", "a.b-c_d/E9", "x/" * 10 + "y"],
)
def test_safe_keys_pass_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/abs",
        "trailing/",
        "a//b",
        "..",
        "a/../b",
        "./a",
        "a/.hidden",
        "back\\slash",
        "sp ace",
        "pct%2e%2e",
        "new\nline",
        "ü.csv",
        "a" * 513,
    ],
)
def test_unsafe_keys_are_rejected(key: str) -> None:
    with pytest.raises(StorageRejectedError):
        validate_key(key)


def test_local_file_names_are_unique_per_key_and_keep_the_file_name() -> None:
    a = local_file_name(input_key(1, "a"))
    b = local_file_name(input_key(1, "b"))
    assert a != b
    assert a.endswith("-input.csv") and b.endswith("-input.csv")
    assert "/" not in a
