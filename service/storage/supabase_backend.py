"""Supabase Storage backend: supabase-py's async client (storage3 over httpx), no threads.

Calls go through :class:`~service.storage.runner.OperationRunner` (deadline, retries, telemetry).
We build the ``httpx.AsyncClient`` ourselves and hand it to ``acreate_client``, so we own its
limits and timeouts and close it in :meth:`SupabaseStorage.aclose`.

Transfers stream:

* uploads: storage3 hands the open file to httpx's multipart encoder, which reads and sends it
  64 KiB at a time (``httpx/_multipart.py``, ``FileField.render_data``) — never whole in memory;
* downloads: storage3's ``download()`` returns ``response.content``, the whole body in memory.
  So :meth:`SupabaseStorage.download_to_file` sends the same authenticated GET
  (``/object/{bucket}/{key}``, the client's own ``apikey``/``Authorization`` headers) through the
  same httpx client with ``stream()`` and writes each chunk to a temporary file as it arrives.

Local-disk writes of those chunks run on the event loop: a 64 KiB write lands in the page cache
in microseconds, less than a thread hop would cost, and it keeps network I/O entirely thread-free.
One caveat outside our control: asyncio resolves a host *name* with ``getaddrinfo`` in the default
executor. That call is bounded by the system resolver's own timeouts and our deadline still ends
the operation on time; an IP address (as in tests) needs no resolution at all.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from pydantic import SecretStr
from storage3._async.file_api import AsyncBucketProxy
from storage3.exceptions import StorageApiError
from storage3.types import FileOptions
from supabase import AsyncClient, AsyncClientOptions, acreate_client

from service.errors import (
    ConfigError,
    StorageIntegrityError,
    StorageRejectedError,
    StorageTimeoutError,
)
from service.storage import supabase_errors as classify
from service.storage.base import Storage
from service.storage.keys import local_file_name, validate_key
from service.storage.runner import Attempt, OperationRunner

__all__ = ["SupabaseStorage"]

T = TypeVar("T")

#: Concurrent connections to Storage: a bot and two job workers need a handful; the bound keeps a
#: storm of slow calls from opening sockets without limit (the pool wait counts in the deadline).
MAX_CONNECTIONS = 32
#: A connect that takes longer than this is retried (within the deadline) rather than waited on.
CONNECT_TIMEOUT_SECONDS = 5.0
#: Enough of an error body to classify it; Storage's JSON errors are ~100 bytes.
ERROR_BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class _Session:
    """What :meth:`SupabaseStorage.start` builds; present exactly while the backend is open."""

    http: httpx.AsyncClient
    client: AsyncClient
    bucket: AsyncBucketProxy
    headers: dict[str, str] = field(repr=False)  # carries the service key
    object_url: str


class SupabaseStorage(Storage):
    """Objects in one Supabase Storage bucket."""

    backend = "supabase"

    def __init__(self, *, url: str, key: SecretStr, bucket: str, runner: OperationRunner) -> None:
        self._url = url
        self._key = key
        self._bucket_id = bucket
        self._runner = runner
        self._metrics = runner.metrics
        self._session: _Session | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the clients and make sure the bucket exists (creating it when missing).

        A wrong ``SUPABASE_URL`` (nothing listening, or no Storage API there) or a refused
        ``SUPABASE_KEY`` raises :class:`ConfigError` naming the variable; a Storage that is down or
        slow raises the retryable storage error, so the caller may try again.
        """
        if self._session is not None:
            return
        timeout = self._runner.timeout_seconds
        # Per-phase timeouts are only a backstop: the runner's deadline bounds each operation.
        # HTTP/1.1: a cancelled request closes its own connection, visible to Storage at once.
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS)),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
            follow_redirects=True,
        )
        options = AsyncClientOptions(httpx_client=http, auto_refresh_token=False, persist_session=False)
        try:
            client = await acreate_client(self._url, self._key.get_secret_value(), options=options)
            try:
                async with asyncio.timeout(timeout):
                    await self._ensure_bucket(client)
            except TimeoutError:
                raise StorageTimeoutError(
                    f"Supabase Storage at {self._url} did not answer within {timeout:g} s at start-up"
                ) from None
        except BaseException:
            await http.aclose()
            raise
        self._session = _Session(
            http=http,
            client=client,
            bucket=client.storage.from_(self._bucket_id),
            # The headers storage3 itself sends (apikey, Authorization, X-Client-Info).
            headers=dict(client.options.headers),
            object_url=f"{client.storage_url}object/{self._bucket_id}",
        )

    async def _ensure_bucket(self, client: AsyncClient) -> None:
        storage = client.storage
        try:
            try:
                await storage.get_bucket(self._bucket_id)
                return
            except StorageApiError as exc:
                if classify.status_of(exc.status, 500) != 404:
                    raise
            try:
                await storage.create_bucket(self._bucket_id, options={"public": False})
            except StorageApiError as exc:
                if classify.status_of(exc.status, 500) != 409:  # 409: another process just made it
                    raise
        except StorageApiError as exc:
            status = classify.status_of(exc.status, 500)
            if status in (401, 403):
                raise ConfigError("SUPABASE_KEY", f"refused by Supabase Storage ({status})") from None
            if status == 404:
                raise ConfigError(
                    "SUPABASE_URL", f"no Supabase Storage API at {self._url}/storage/v1"
                ) from None
            raise classify.from_api_error(exc) from exc
        except httpx.ConnectError as exc:
            raise ConfigError("SUPABASE_URL", f"cannot connect to {self._url} ({exc})") from None
        except httpx.HTTPError as exc:
            raise classify.from_transport(exc) from exc

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.http.aclose()

    def _require(self) -> _Session:
        if self._session is None:
            raise RuntimeError("SupabaseStorage used before start() or after aclose()")
        return self._session

    # --- operations -------------------------------------------------------------------------

    async def upload_bytes(self, key: str, data: bytes, content_type: str) -> None:
        async def attempt(state: Attempt) -> None:
            bucket = self._require().bucket
            await _classified(bucket.upload(validate_key(key), data, _upsert(content_type)))
            self._metrics.storage_bytes.labels("sent").inc(len(data))

        await self._runner.run("upload", key, attempt, retry=True, size_bytes=len(data))

    async def upload_file(self, key: str, path: Path, content_type: str) -> None:
        size = path.stat().st_size  # noqa: ASYNC240 - one local stat, microseconds; no thread for it

        async def attempt(state: Attempt) -> None:
            bucket = self._require().bucket
            # A Path (not an open file): storage3 opens it per attempt, so a retry starts at byte 0.
            await _classified(bucket.upload(validate_key(key), path, _upsert(content_type)))
            self._metrics.storage_bytes.labels("sent").inc(size)

        await self._runner.run("upload_file", key, attempt, retry=True, size_bytes=size)

    async def download_to_file(self, key: str, dest_dir: Path) -> Path:
        async def attempt(state: Attempt) -> Path:
            return await self._download_once(validate_key(key), dest_dir, state)

        return await self._runner.run("download", key, attempt, retry=True)

    async def _download_once(self, key: str, dest_dir: Path, state: Attempt) -> Path:
        session = self._require()
        # Local-disk metadata calls: microseconds each, kept on the loop like the chunk writes.
        dest_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=".download-", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                url = f"{session.object_url}/{key}"
                async with session.http.stream("GET", url, headers=session.headers) as response:
                    if response.status_code >= 400:
                        raise classify.from_response(response.status_code, await _capped_body(response))
                    declared = response.headers.get("content-length")
                    try:
                        async for chunk in response.aiter_bytes():
                            out.write(chunk)
                            self._metrics.storage_bytes.labels("received").inc(len(chunk))
                    except httpx.HTTPError as exc:
                        raise classify.from_transport(exc, in_body=True) from exc
                    received = response.num_bytes_downloaded
            if declared is not None and received != int(declared):
                raise StorageIntegrityError(f"download of {key}: got {received} of {declared} bytes")
            state.set_size(received)
            final = dest_dir / local_file_name(key)
            os.replace(tmp, final)
            return final
        except httpx.HTTPError as exc:
            raise classify.from_transport(exc) from exc
        finally:
            # Whatever ended the attempt early (error, deadline, shutdown): no partial file.
            tmp.unlink(missing_ok=True)  # noqa: ASYNC240 - local metadata call, see above

    async def signed_url(self, key: str, expires_in_seconds: int) -> str:
        if expires_in_seconds < 1:
            raise ValueError("expires_in_seconds must be >= 1")

        async def attempt(state: Attempt) -> str:
            bucket = self._require().bucket
            answer = await _classified(bucket.create_signed_url(validate_key(key), expires_in_seconds))
            url = answer.get("signedURL")
            if not url:
                raise StorageRejectedError(f"Storage returned no signed URL for {key}")
            return url

        return await self._runner.run("sign", key, attempt, retry=True)

    async def delete(self, key: str) -> None:
        async def attempt(state: Attempt) -> None:
            bucket = self._require().bucket
            # Storage answers 200 with the removed rows, an empty list for a missing key.
            await _classified(bucket.remove([validate_key(key)]))

        await self._runner.run("delete", key, attempt, retry=True)

    async def health(self) -> None:
        async def attempt(state: Attempt) -> None:
            await _classified(self._require().client.storage.get_bucket(self._bucket_id))

        # One attempt: a probe reports the state right now; retrying would hide a flapping Storage.
        await self._runner.run("health", None, attempt, retry=False)


def _upsert(content_type: str) -> FileOptions:
    # "upsert" makes storage3 send x-upsert: true, so a retried upload replaces, never conflicts.
    return {"content-type": content_type, "upsert": "true"}


async def _classified(call: Awaitable[T]) -> T:
    """Await a storage3 call, turning its errors and httpx's into csvbot's storage errors."""
    try:
        return await call
    except StorageApiError as exc:
        raise classify.from_api_error(exc) from exc
    except httpx.HTTPError as exc:
        raise classify.from_transport(exc) from exc


async def _capped_body(response: httpx.Response) -> bytes:
    """The start of an error answer. A failure reading it propagates: an error body cut short
    is a transport failure (retryable), not a reason to guess the status from HTTP 400."""
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= ERROR_BODY_BYTES:
            break
    return body[:ERROR_BODY_BYTES]
