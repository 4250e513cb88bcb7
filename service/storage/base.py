"""The one storage interface the bot and the workers use, whatever the backend.

Every operation ends within ``STORAGE_TIMEOUT_SECONDS`` (retries included) or raises one of the
storage errors of :mod:`service.errors`:

* :class:`~service.errors.StorageTimeoutError` — the deadline passed; the request was cancelled;
* :class:`~service.errors.StorageUnavailableError` — 5xx, connection refused or reset;
* :class:`~service.errors.StorageNotFoundError` — no such object;
* :class:`~service.errors.StorageRejectedError` — a 4xx that retrying cannot fix, or a bad key;
* :class:`~service.errors.StorageIntegrityError` — a transfer ended early or its size was wrong.

Keys come from :mod:`service.storage.keys` only.
"""

from __future__ import annotations

import abc
from pathlib import Path
from types import TracebackType

__all__ = ["Storage"]


class Storage(abc.ABC):
    """Object storage: upload, download, sign, delete, probe. Use ``async with`` or start/aclose."""

    #: ``"supabase"`` or ``"local"``: for logs and span attributes.
    backend: str

    async def start(self) -> None:  # noqa: B027 - optional hook, a no-op for most backends
        """Connect and prepare (e.g. create the bucket). Idempotent."""

    @abc.abstractmethod
    async def upload_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any object there (upsert)."""

    @abc.abstractmethod
    async def upload_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at ``path`` under ``key`` (upsert), streamed from disk in chunks."""

    @abc.abstractmethod
    async def download_to_file(self, key: str, dest_dir: Path) -> Path:
        """Stream the object into a new file in ``dest_dir`` and return its path.

        The body goes to a temporary file that is renamed into place only when complete: on any
        failure no file (partial or temporary) is left in ``dest_dir``.
        """

    @abc.abstractmethod
    async def signed_url(self, key: str, expires_in_seconds: int) -> str:
        """A URL that downloads the object without credentials until it expires."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error (idempotent)."""

    @abc.abstractmethod
    async def health(self) -> None:
        """A cheap probe of the backend; raises a storage error when it is not usable."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release connections and files. Idempotent."""

    async def __aenter__(self) -> Storage:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
