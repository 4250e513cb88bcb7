"""Request handlers of the Supabase Storage test server: the REST API under ``/storage/v1``.

Each handler turns a request into a :class:`~emulators.supabase_storage.wire.Reply`; the
server wraps it with authentication, fault injection and counting. Paths, bodies and answers
follow what supabase-py's storage3 client sends and expects (``storage3/_async/bucket.py`` and
``file_api.py``).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import BodyPartReader, web

from emulators.supabase_storage.objects import (
    CHUNK_BYTES,
    BucketRecord,
    ObjectStore,
    ObjectTooLargeError,
    ObjectWriter,
)
from emulators.supabase_storage.wire import (
    Reply,
    TokenError,
    error_reply,
    json_reply,
    not_found,
    sign_token,
    verify_token,
)

__all__ = ["StorageApi"]

_BUCKET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$")
_DEFAULT_MIMETYPE = "application/octet-stream"


class StorageApi:
    """The handlers, over one :class:`ObjectStore`. ``token_secret`` signs signed-URL tokens."""

    def __init__(self, store: ObjectStore, token_secret: bytes) -> None:
        self.store = store
        self._secret = token_secret

    # --- buckets ----------------------------------------------------------------------------

    async def list_buckets(self, request: web.Request) -> Reply:
        return json_reply([b.to_json() for b in self.store.buckets.values()])

    async def get_bucket(self, request: web.Request) -> Reply:
        bucket = self.store.buckets.get(request.match_info["bucket"])
        return json_reply(bucket.to_json()) if bucket else not_found("Bucket")

    async def create_bucket(self, request: web.Request) -> Reply:
        body = await _json_body(request)
        bucket_id = str(body.get("id") or body.get("name") or "")
        if not _BUCKET_NAME.match(bucket_id):
            return error_reply(400, "InvalidBucketName", "Bucket name invalid", error="Invalid Input")
        if bucket_id in self.store.buckets:
            return error_reply(409, "BucketAlreadyExists", "The resource already exists", error="Duplicate")
        self.store.buckets[bucket_id] = BucketRecord(
            id=bucket_id,
            public=bool(body.get("public", False)),
            file_size_limit=body.get("file_size_limit"),
            allowed_mime_types=body.get("allowed_mime_types"),
        )
        return json_reply({"name": bucket_id})

    async def delete_bucket(self, request: web.Request) -> Reply:
        bucket_id = request.match_info["bucket"]
        if bucket_id not in self.store.buckets:
            return not_found("Bucket")
        if self.store.in_bucket(bucket_id):
            return error_reply(409, "ResourceNotEmpty", "The bucket you tried to delete is not empty")
        del self.store.buckets[bucket_id]
        return json_reply({"message": "Successfully deleted"})

    async def empty_bucket(self, request: web.Request) -> Reply:
        bucket_id = request.match_info["bucket"]
        if bucket_id not in self.store.buckets:
            return not_found("Bucket")
        self.store.remove(bucket_id, [r.name for r in self.store.in_bucket(bucket_id)])
        return json_reply({"message": "Successfully emptied"})

    # --- objects ----------------------------------------------------------------------------

    async def upload(self, request: web.Request) -> Reply:
        """``POST /object/{bucket}/{name}``: create, or replace with ``x-upsert: true``."""
        upsert = request.headers.get("x-upsert", "false").lower() == "true"
        return await self._store_body(request, upsert=upsert)

    async def update(self, request: web.Request) -> Reply:
        """``PUT /object/{bucket}/{name}``: replace (or create) the object."""
        return await self._store_body(request, upsert=True)

    async def _store_body(self, request: web.Request, *, upsert: bool) -> Reply:
        bucket = self.store.buckets.get(request.match_info["bucket"])
        name = request.match_info["name"]
        if bucket is None:
            return not_found("Bucket")
        if not upsert and self.store.get(bucket.id, name) is not None:
            return error_reply(409, "KeyAlreadyExists", "The resource already exists", error="Duplicate")
        writer = self.store.writer(bucket)
        try:
            mimetype, cache_control = await _receive_body(request, writer)
        except ObjectTooLargeError:
            writer.discard()
            await _drain(request)
            return error_reply(
                413,
                "EntityTooLarge",
                "The object exceeded the maximum allowed size",
                error="Payload too large",
            )
        except BaseException:
            writer.discard()
            raise
        if mimetype is None:
            writer.discard()
            return error_reply(400, "InvalidRequest", "No content provided")
        record = self.store.commit(bucket.id, name, writer, mimetype, cache_control)
        return json_reply({"Key": f"{bucket.id}/{name}", "Id": record.id})

    async def download(self, request: web.Request) -> Reply:
        """``GET /object/{bucket}/{name}`` (also ``/object/authenticated/…``)."""
        return self._object_body(request)

    async def signed_download(self, request: web.Request) -> Reply:
        """``GET /object/sign/{bucket}/{name}?token=…``: no auth header, the token is the key."""
        bucket, name = request.match_info["bucket"], request.match_info["name"]
        try:
            verify_token(self._secret, request.query.get("token", ""), f"{bucket}/{name}")
        except TokenError as exc:
            return error_reply(400, "InvalidSignature", str(exc))
        return self._object_body(request)

    def _object_body(self, request: web.Request) -> Reply:
        bucket, name = request.match_info["bucket"], request.match_info["name"]
        if bucket not in self.store.buckets:
            return not_found("Bucket")
        record = self.store.get(bucket, name)
        if record is None:
            return not_found()
        headers = {
            "ETag": f'"{record.etag}"',
            "Cache-Control": record.cache_control,
            "Last-Modified": record.updated_at,
        }
        if "download" in request.query:
            filename = request.query["download"] or name.rsplit("/", 1)[-1]
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Reply(200, record.mimetype, path=record.path, size=record.size, headers=headers)

    async def info(self, request: web.Request) -> Reply:
        record = self.store.get(request.match_info["bucket"], request.match_info["name"])
        if record is None:
            return not_found()
        return json_reply(
            {
                "id": record.id,
                "name": record.name,
                "bucket_id": record.bucket,
                "size": record.size,
                "content_type": record.mimetype,
                "cache_control": record.cache_control,
                "etag": f'"{record.etag}"',
                "created_at": record.created_at,
                "last_modified": record.updated_at,
                "metadata": {},
            }
        )

    async def list_objects(self, request: web.Request) -> Reply:
        """``POST /object/list/{bucket}``: one folder level under ``prefix``, like Storage."""
        bucket = request.match_info["bucket"]
        if bucket not in self.store.buckets:
            return not_found("Bucket")
        body = await _json_body(request)
        prefix = str(body.get("prefix") or "").strip("/")
        base = f"{prefix}/" if prefix else ""
        search = str(body.get("search") or "")
        entries: dict[str, dict[str, Any]] = {}
        for record in self.store.in_bucket(bucket):
            if not record.name.startswith(base):
                continue
            rest = record.name[len(base) :]
            head, sep, _ = rest.partition("/")
            if search and not head.startswith(search):
                continue
            if sep:
                entries.setdefault(head, {"name": head, "id": None, "metadata": None})
            else:
                entries[head] = {**record.to_json(), "name": head}
        sort_by = body.get("sortBy") or {}
        reverse = sort_by.get("order") == "desc"
        items = sorted(entries.values(), key=lambda e: e["name"], reverse=reverse)
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", 100))
        return json_reply(items[offset : offset + limit])

    async def remove(self, request: web.Request) -> Reply:
        """``DELETE /object/{bucket}`` with ``{"prefixes": [...]}``: missing names are skipped."""
        bucket = request.match_info["bucket"]
        if bucket not in self.store.buckets:
            return not_found("Bucket")
        body = await _json_body(request)
        names = body.get("prefixes")
        if not isinstance(names, list) or not names:
            return error_reply(400, "InvalidRequest", "prefixes must be a non-empty list")
        removed = self.store.remove(bucket, [str(n) for n in names])
        return json_reply([r.to_json() for r in removed])

    async def sign(self, request: web.Request) -> Reply:
        """``POST /object/sign/{bucket}/{name}`` with ``{"expiresIn": n}``: a signed GET path."""
        bucket, name = request.match_info["bucket"], request.match_info["name"]
        if bucket not in self.store.buckets:
            return not_found("Bucket")
        if self.store.get(bucket, name) is None:
            return not_found()
        body = await _json_body(request)
        try:
            expires_in = int(body.get("expiresIn", 0))
        except (TypeError, ValueError):
            expires_in = 0
        if expires_in < 1:
            return error_reply(400, "InvalidParameter", "expiresIn must be a positive integer")
        token = sign_token(self._secret, f"{bucket}/{name}", expires_in)
        return json_reply({"signedURL": f"/object/sign/{bucket}/{name}?token={token}"})


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        doc = await request.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


async def _receive_body(request: web.Request, writer: ObjectWriter) -> tuple[str | None, str]:
    """Stream an upload into ``writer``: multipart (what storage3 sends) or a raw body.

    Returns the object's content type (``None`` when no file was sent) and its cache control.
    """
    cache_control = "max-age=3600"
    if not request.content_type.startswith("multipart/"):
        async for chunk in request.content.iter_chunked(CHUNK_BYTES):
            writer.write(chunk)
        if "cache-control" in request.headers:
            cache_control = request.headers["cache-control"]
        return request.content_type or _DEFAULT_MIMETYPE, cache_control
    mimetype: str | None = None
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "cacheControl":
            cache_control = f"max-age={await part.text()}"
        elif part.name == "file":
            mimetype = part.headers.get("Content-Type", _DEFAULT_MIMETYPE)
            while chunk := await part.read_chunk(CHUNK_BYTES):
                writer.write(chunk)
        else:
            await part.release()
    return mimetype, cache_control


async def _drain(request: web.Request) -> None:
    """Read and drop the rest of a refused upload so the client gets our answer, not a reset."""
    async for _ in request.content.iter_chunked(CHUNK_BYTES):
        pass
