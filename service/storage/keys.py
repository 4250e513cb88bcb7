"""Object keys: built by the service from ids and fixed names, never from user-supplied names.

Layout: ``users/<user_id>/jobs/<job_id>/<fixed name>``. A user's original file name is kept in the
job row for display only; it never reaches a key, so it can neither escape a folder nor collide.

:func:`validate_key` is the single gate every backend passes a key through: a key is 1-512
characters of ``/``-separated segments, each starting with a letter or digit and continuing with
letters, digits, ``.``, ``_`` or ``-``. That rules out ``..``, ``.``, empty segments, a leading
or trailing ``/``, backslashes, spaces and anything URL-encoding could change. Backends' temporary
files start with ``.``, so they can never collide with a valid key.
"""

from __future__ import annotations

import hashlib
import re

from service.errors import StorageRejectedError

__all__ = [
    "CLEANED_NAME",
    "INPUT_NAME",
    "MAX_KEY_LENGTH",
    "PROFILE_NAME",
    "cleaned_key",
    "input_key",
    "job_prefix",
    "local_file_name",
    "profile_key",
    "validate_key",
]

#: Supabase Storage accepts keys up to 1024 bytes; ours stay far below (ids are short).
MAX_KEY_LENGTH = 512
INPUT_NAME = "input.csv"
CLEANED_NAME = "cleaned.csv"
PROFILE_NAME = "profile.csv"

_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_KEY = re.compile(rf"^{_SEGMENT}(?:/{_SEGMENT})*$")
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe object key; raise :class:`StorageRejectedError` if not."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise StorageRejectedError(f"invalid storage key {key!r}")
    return key


def job_prefix(user_id: int, job_id: str) -> str:
    """The folder of one job's objects: ``users/<user_id>/jobs/<job_id>``."""
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id < 0:
        raise ValueError(f"user_id must be a non-negative int, not {user_id!r}")
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise ValueError(f"job_id must be 1-64 letters, digits, '_' or '-', not {job_id!r}")
    return f"users/{user_id}/jobs/{job_id}"


def input_key(user_id: int, job_id: str) -> str:
    """The CSV the user uploaded."""
    return validate_key(f"{job_prefix(user_id, job_id)}/{INPUT_NAME}")


def cleaned_key(user_id: int, job_id: str) -> str:
    """The cleaned CSV sent back to the user."""
    return validate_key(f"{job_prefix(user_id, job_id)}/{CLEANED_NAME}")


def profile_key(user_id: int, job_id: str) -> str:
    """The column profile (CSV, one row per column) of the user's CSV."""
    return validate_key(f"{job_prefix(user_id, job_id)}/{PROFILE_NAME}")


def local_file_name(key: str) -> str:
    """The name a download of ``key`` gets on local disk: unique per key, ending in its file name.

    ``users/7/jobs/a1/input.csv`` becomes ``3f2a…-input.csv``: the hash keeps two jobs' inputs
    apart in one folder, the file name keeps the extension for tools that look at it.
    """
    digest = hashlib.sha256(validate_key(key).encode()).hexdigest()[:16]
    return f"{digest}-{key.rsplit('/', 1)[-1]}"
