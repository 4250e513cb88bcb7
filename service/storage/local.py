"""Local-folder backend: the embedded default when ``SUPABASE_URL`` is unset.

Objects are files under ``STORAGE_DIR`` at their key's path. Every write goes to a temporary file
in the destination folder, is flushed and fsynced, then renamed over the target with
``os.replace`` — readers see the old object or the new one, never half of one, even after a crash.
Keys pass :func:`~service.storage.keys.validate_key` and must resolve inside the root, so no key
(or symlink planted in the folder) can read or write outside it.

Disk I/O runs in ``asyncio.to_thread``: file system calls block, and a slow disk must not stall
the event loop. Threads are acceptable here — unlike for network calls — because local disk I/O
is bounded: it finishes in milliseconds to seconds and never hangs on a remote peer. Copies check a
cancel flag between 1 MiB chunks, so a deadline or shutdown stops the thread's work promptly and
its temporary file is removed rather than renamed into place later.

``signed_url`` returns a ``file://`` URL of the object's path. It does not expire and only works
on this machine: enough for the simulator, operators and tests, which is what the embedded mode is
for. Content types are not stored (files have none).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from service.errors import StorageNotFoundError, StorageRejectedError, StorageUnavailableError
from service.storage.base import Storage
from service.storage.keys import local_file_name, validate_key
from service.storage.runner import Attempt, OperationRunner

__all__ = ["LocalStorage"]

T = TypeVar("T")
#: Copy granularity: large enough for full disk throughput, small enough to stop promptly.
CHUNK_BYTES = 1024 * 1024


class _Cancelled(Exception):
    """The awaiting side gave up; the thread abandons the copy."""


class LocalStorage(Storage):
    """Objects as files under ``root``."""

    backend = "local"

    def __init__(self, root: Path, *, runner: OperationRunner) -> None:
        self._configured_root = root
        self._root: Path | None = None
        self._runner = runner
        self._metrics = runner.metrics

    async def start(self) -> None:
        if self._root is None:
            self._root = await asyncio.to_thread(_make_root, self._configured_root)

    async def aclose(self) -> None:
        self._root = None

    # --- operations -------------------------------------------------------------------------

    async def upload_bytes(self, key: str, data: bytes, content_type: str) -> None:
        async def attempt(state: Attempt) -> None:
            target = self._path(key)
            await _in_thread(lambda cancel: _write_atomic(target, lambda out: out.write(data), cancel))
            self._metrics.storage_bytes.labels("sent").inc(len(data))

        await self._runner.run("upload", key, attempt, retry=False, size_bytes=len(data))

    async def upload_file(self, key: str, path: Path, content_type: str) -> None:
        async def attempt(state: Attempt) -> None:
            target = self._path(key)
            size = await _in_thread(lambda cancel: _copy_file(path, target, cancel), source_is_object=False)
            self._metrics.storage_bytes.labels("sent").inc(size)
            state.set_size(size)

        await self._runner.run("upload_file", key, attempt, retry=False)

    async def download_to_file(self, key: str, dest_dir: Path) -> Path:
        async def attempt(state: Attempt) -> Path:
            source = self._path(key)
            final = dest_dir / local_file_name(key)
            size = await _in_thread(lambda cancel: _copy_file(source, final, cancel, fsync=False))
            self._metrics.storage_bytes.labels("received").inc(size)
            state.set_size(size)
            return final

        return await self._runner.run("download", key, attempt, retry=False)

    async def signed_url(self, key: str, expires_in_seconds: int) -> str:
        if expires_in_seconds < 1:
            raise ValueError("expires_in_seconds must be >= 1")

        async def attempt(state: Attempt) -> str:
            path = self._path(key)
            if not await asyncio.to_thread(path.is_file):
                raise StorageNotFoundError(f"no object {key}")
            return path.as_uri()

        return await self._runner.run("sign", key, attempt, retry=False)

    async def delete(self, key: str) -> None:
        async def attempt(state: Attempt) -> None:
            path = self._path(key)
            await _in_thread(lambda cancel: path.unlink(missing_ok=True))

        await self._runner.run("delete", key, attempt, retry=False)

    async def health(self) -> None:
        async def attempt(state: Attempt) -> None:
            root = self._require_root()
            usable = await asyncio.to_thread(lambda: root.is_dir() and os.access(root, os.W_OK | os.X_OK))
            if not usable:
                raise StorageUnavailableError(f"storage folder {root} is missing or not writable")

        await self._runner.run("health", None, attempt, retry=False)

    # --- helpers ----------------------------------------------------------------------------

    def _require_root(self) -> Path:
        if self._root is None:
            raise RuntimeError("LocalStorage used before start() or after aclose()")
        return self._root

    def _path(self, key: str) -> Path:
        """The file of ``key``, guaranteed to lie inside the root (symlinks resolved)."""
        root = self._require_root()
        path = (root / validate_key(key)).resolve()
        if not path.is_relative_to(root):
            raise StorageRejectedError(f"storage key {key!r} resolves outside the storage folder")
        return path


def _make_root(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


async def _in_thread(work: Callable[[threading.Event], T], *, source_is_object: bool = True) -> T:
    """Run ``work(cancel)`` in a thread; if we stop waiting, set ``cancel`` so it stops too.

    File-system errors become storage errors: a missing object is "not found", anything else
    (disk full, permissions, I/O error) makes the storage unavailable. A missing local file given
    to ``upload_file`` is the caller's mistake and stays a ``FileNotFoundError``.
    """
    cancel = threading.Event()
    try:
        return await asyncio.to_thread(work, cancel)
    except asyncio.CancelledError:
        cancel.set()
        raise
    except FileNotFoundError as exc:
        if not source_is_object:
            raise
        raise StorageNotFoundError(f"no such object ({exc.filename})") from exc
    except OSError as exc:
        raise StorageUnavailableError(f"local storage I/O failed: {exc.strerror}") from exc


def _write_atomic(
    target: Path, write: Callable[[BinaryIO], object], cancel: threading.Event, *, fsync: bool = True
) -> None:
    """Write via a temporary file in the target's folder, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            if cancel.is_set():
                raise _Cancelled
            out.flush()
            if fsync:
                os.fsync(out.fileno())  # the rename must not outlive the data after a crash
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _copy_file(source: Path, target: Path, cancel: threading.Event, *, fsync: bool = True) -> int:
    """Copy ``source`` to ``target`` atomically in 1 MiB chunks; returns the bytes copied.

    Downloads skip fsync: the copy in the job's scratch folder is rebuilt from storage if lost.
    """
    copied = 0

    def copy(out: BinaryIO) -> None:
        nonlocal copied
        with source.open("rb") as src:
            while chunk := src.read(CHUNK_BYTES):
                if cancel.is_set():
                    raise _Cancelled
                out.write(chunk)
                copied += len(chunk)

    if not source.is_file():
        raise FileNotFoundError(2, "No such file", str(source))
    _write_atomic(target, copy, cancel, fsync=fsync)
    return copied
