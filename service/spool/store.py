"""The spool's files: ``<job_id>.csv`` and ``<job_id>.json`` in one folder on the data volume.

The data file is downloaded into ``incoming/`` and moved into place only when it is complete and
fsynced; the metadata record is written to a temporary name, fsynced and renamed over the old one,
and the folder is fsynced after each rename — so a crash leaves either the whole entry or none of
it, never half a file that a replay would upload. The spool is bounded in bytes
(``SPOOL_MAX_BYTES``): an entry that would not fit is refused with :class:`SpoolFullError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
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
            self._sizes[entry.job_id] = data.stat().st_size
            entries.append(entry)
        for orphan in self.root.glob("*.csv"):
            if orphan.stem not in self._sizes:
                orphan.unlink(missing_ok=True)
        self._publish()
        return entries

    @property
    def bytes_used(self) -> int:
        return sum(self._sizes.values())

    def __len__(self) -> int:
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
        if self.bytes_used + size > self.max_bytes:
            raise SpoolFullError(f"{self.bytes_used} + {size} bytes > SPOOL_MAX_BYTES={self.max_bytes}")
        _fsync_file(downloaded)
        target = self.data_path(entry.job_id)
        os.replace(downloaded, target)
        self._sizes[entry.job_id] = size
        self.save(entry)  # fsyncs the folder, which also makes the rename above durable
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
        self._sizes.pop(job_id, None)
        self._publish()

    def discard_incoming(self, job_id: str) -> None:
        self.incoming_path(job_id).unlink(missing_ok=True)

    def _publish(self) -> None:
        self.metrics.spool_bytes.set(self.bytes_used)
        self.metrics.spool_entries.set(len(self._sizes))


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
