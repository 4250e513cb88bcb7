"""The Supabase Storage test server's buckets and objects.

Object bodies spill to files in a private temporary directory; only a small record per object
stays in memory (a few hundred bytes), so the server holds thousands of objects — and objects of
hundreds of megabytes — bounded by free disk space rather than RAM. The directory is removed by
:meth:`ObjectStore.close`.

Disk I/O here is synchronous, on the event loop, on purpose: writes and reads go 64 KiB at a time
to local disk (the page cache, in practice: microseconds each), and staying off threads keeps the
server from adding executor threads to the process — tests that count threads to prove the
storage client leaves none behind run the server in the same process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["BucketRecord", "ObjectRecord", "ObjectStore", "ObjectWriter"]

CHUNK_BYTES = 64 * 1024


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class BucketRecord:
    id: str
    public: bool = False
    file_size_limit: int | None = None
    allowed_mime_types: list[str] | None = None
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        """The bucket as Storage's ``GET /bucket/{id}`` returns it."""
        return {
            "id": self.id,
            "name": self.id,
            "owner": "",
            "public": self.public,
            "type": "STANDARD",
            "file_size_limit": self.file_size_limit,
            "allowed_mime_types": self.allowed_mime_types,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class ObjectRecord:
    id: str
    bucket: str
    name: str
    path: Path
    size: int
    mimetype: str
    etag: str
    cache_control: str = "max-age=3600"
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)

    def metadata(self) -> dict[str, Any]:
        return {
            "eTag": f'"{self.etag}"',
            "size": self.size,
            "mimetype": self.mimetype,
            "cacheControl": self.cache_control,
            "lastModified": self.updated_at,
            "contentLength": self.size,
            "httpStatusCode": 200,
        }

    def to_json(self) -> dict[str, Any]:
        """The object row as Storage's list and remove endpoints return it."""
        return {
            "name": self.name,
            "id": self.id,
            "bucket_id": self.bucket,
            "owner": "",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_accessed_at": self.updated_at,
            "metadata": self.metadata(),
        }


class ObjectTooLargeError(Exception):
    """The body grew past the store's (or the bucket's) size limit."""


class ObjectWriter:
    """Receives one object's body chunk by chunk into a temporary file, hashing as it goes."""

    def __init__(self, store: ObjectStore, limit: int) -> None:
        self._store = store
        self._limit = limit
        self.path = store.root / f"{uuid.uuid4().hex}.part"
        self._file: BinaryIO = self.path.open("wb")
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._limit:
            raise ObjectTooLargeError(f"object exceeds {self._limit} bytes")
        self._file.write(chunk)
        self._md5.update(chunk)

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def finish(self) -> tuple[Path, int, str]:
        self._file.close()
        final = self.path.with_suffix(".obj")
        os.replace(self.path, final)
        return final, self.size, self._md5.hexdigest()


class ObjectStore:
    """Buckets and objects of one server. One event loop owns it: no locks needed."""

    def __init__(self, *, max_object_bytes: int, root: Path | None = None) -> None:
        self.max_object_bytes = max_object_bytes
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="csvbot-storage-emulator-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        self.buckets: dict[str, BucketRecord] = {}
        self.objects: dict[tuple[str, str], ObjectRecord] = {}

    # --- objects --------------------------------------------------------------------------

    def writer(self, bucket: BucketRecord) -> ObjectWriter:
        limit = self.max_object_bytes
        if bucket.file_size_limit:
            limit = min(limit, bucket.file_size_limit)
        return ObjectWriter(self, limit)

    def commit(
        self, bucket: str, name: str, writer: ObjectWriter, mimetype: str, cache_control: str
    ) -> ObjectRecord:
        """Make a finished upload visible under ``name``, replacing any previous body."""
        path, size, etag = writer.finish()
        old = self.objects.get((bucket, name))
        record = ObjectRecord(
            id=old.id if old else str(uuid.uuid4()),
            bucket=bucket,
            name=name,
            path=path,
            size=size,
            mimetype=mimetype,
            etag=etag,
            cache_control=cache_control,
            created_at=old.created_at if old else _now(),
        )
        self.objects[(bucket, name)] = record
        if old is not None:
            # A download still streaming the old body keeps its open file: unlink is safe.
            old.path.unlink(missing_ok=True)
        return record

    def get(self, bucket: str, name: str) -> ObjectRecord | None:
        return self.objects.get((bucket, name))

    def remove(self, bucket: str, names: list[str]) -> list[ObjectRecord]:
        removed = []
        for name in names:
            record = self.objects.pop((bucket, name), None)
            if record is not None:
                record.path.unlink(missing_ok=True)
                removed.append(record)
        return removed

    def in_bucket(self, bucket: str) -> list[ObjectRecord]:
        return [r for (b, _), r in self.objects.items() if b == bucket]

    def read(self, record: ObjectRecord) -> bytes:
        """The whole body (tests and small objects only)."""
        return record.path.read_bytes()

    def close(self) -> None:
        self.objects.clear()
        self.buckets.clear()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)
