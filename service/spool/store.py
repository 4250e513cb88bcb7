"""The spool's files: ``<job_id>.csv`` and ``<job_id>.json`` in one folder on the data volume.

The data file is downloaded into ``incoming/`` and moved into place only when it is complete and
fsynced; the metadata record is written to a temporary name, fsynced and renamed over the old one,
and the folder is fsynced after each rename — so a crash leaves either the whole entry or none of
it, never half a file that a replay would upload. The spool is bounded in bytes
(``SPOOL_MAX_BYTES``): an entry that would not fit is refused with :class:`SpoolFullError`.

The methods may run in worker threads (the desk runs the ones that touch the disk there: an
fsync of a 20 MB upload held the event loop for ~45 ms, its unlink for ~28 ms); the byte
accounting is under a lock, so two commits never both take the last room.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

from service.spool.entry import SpoolEntry
from telemetry.metrics import Metrics

log = logging.getLogger(__name__)


class SpoolFullError(Exception):
    """The spool has no room for this file (SPOOL_MAX_BYTES)."""


class Spool:
    def __init__(self, root: Path, max_bytes: int, metrics: Metrics) -> None:
        self.root = root
        self.incoming = root / "incoming"
        self.max_bytes = max_bytes
        self.metrics = metrics
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()  # guards _sizes

    def open(self) -> list[SpoolEntry]:
        """Create the folders, drop half-downloaded files of a previous process, and return the
        complete entries it left (the start-up replay)."""
        self.incoming.mkdir(parents=True, exist_ok=True)
        for leftover in self.incoming.iterdir():
            leftover.unlink(missing_ok=True)
        entries = []
        for meta in sorted(self.root.glob("*.json")):
            data = meta.with_suffix(".csv")
            try:
                entry = SpoolEntry.from_json(meta.read_text())
            except (ValueError, TypeError, KeyError):
                log.error(
                    "unreadable spool record dropped", extra={"event": "spool_corrupt", "path": str(meta)}
                )
                meta.unlink(missing_ok=True)
                data.unlink(missing_ok=True)
                continue
            if not data.exists():
                meta.unlink(missing_ok=True)
                continue
            with self._lock:
                self._sizes[entry.job_id] = data.stat().st_size
            entries.append(entry)
        for orphan in self.root.glob("*.csv"):
            if orphan.stem not in self._sizes:
                orphan.unlink(missing_ok=True)
        self._publish()
        return entries

    @property
    def bytes_used(self) -> int:
        with self._lock:
            return sum(self._sizes.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._sizes)

    def incoming_path(self, job_id: str) -> Path:
        return self.incoming / f"{job_id}.csv"

    def data_path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.csv"

    def commit(self, entry: SpoolEntry, downloaded: Path) -> Path:
        """Keep ``downloaded`` (in ``incoming/``) with its record; returns where the data now is.

        Raises :class:`SpoolFullError` (and leaves the file where it is) past SPOOL_MAX_BYTES.
        """
        size = downloaded.stat().st_size
        with self._lock:  # the room is taken before the slow part, so no other commit takes it
            used = sum(self._sizes.values())
            if used + size > self.max_bytes:
                raise SpoolFullError(f"{used} + {size} bytes > SPOOL_MAX_BYTES={self.max_bytes}")
            self._sizes[entry.job_id] = size
        try:
            _fsync_file(downloaded)
            target = self.data_path(entry.job_id)
            os.replace(downloaded, target)
            self.save(entry)  # fsyncs the folder, which also makes the rename above durable
        except BaseException:
            with self._lock:
                self._sizes.pop(entry.job_id, None)
            raise
        self._publish()
        return target

    def save(self, entry: SpoolEntry) -> None:
        """Write the record atomically (temporary file, fsync, rename, fsync the folder)."""
        meta = self.root / f"{entry.job_id}.json"
        tmp = meta.with_suffix(".json.tmp")
        with tmp.open("w") as fh:
            fh.write(entry.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, meta)
        _fsync_dir(self.root)

    def remove(self, job_id: str) -> None:
        (self.root / f"{job_id}.json").unlink(missing_ok=True)
        self.data_path(job_id).unlink(missing_ok=True)
        with self._lock:
            self._sizes.pop(job_id, None)
        self._publish()

    def discard_incoming(self, job_id: str) -> None:
        self.incoming_path(job_id).unlink(missing_ok=True)

    def _publish(self) -> None:
        with self._lock:
            used, entries = sum(self._sizes.values()), len(self._sizes)
        self.metrics.spool_bytes.set(used)
        self.metrics.spool_entries.set(entries)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # Not every filesystem lets a folder be opened for fsync; the rename is then as durable as
    # that filesystem makes it.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
