"""Wire details of the Supabase Storage test server: error bodies, signed-URL tokens, replies.

Error bodies copy Supabase Storage (supabase/storage ``src/http/error-handler.ts``): a JSON object
``{"statusCode": "<code as a string>", "code": …, "error": …, "message": …}`` sent with HTTP 400
for every error but 500 — a missing object is HTTP 400 with ``"statusCode": "404"``. Clients must
therefore read ``statusCode`` from the body, as the official clients do. Injected 500/503 faults
are sent with their real HTTP status, like a failing gateway in front of Storage.

:func:`send_reply` writes a response body and acts out the body-level faults (trickle, reset,
truncate) of :mod:`emulators.supabase_storage.faults`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from emulators.supabase_storage.faults import Fault

__all__ = ["Reply", "TokenError", "error_reply", "json_reply", "send_reply", "sign_token", "verify_token"]

CHUNK_BYTES = 64 * 1024


# --- error bodies -----------------------------------------------------------------------------


def error_reply(status_code: int, code: str, message: str, *, error: str | None = None) -> Reply:
    """A Storage error: HTTP 400 (500 for 500) carrying the real status in ``statusCode``."""
    doc = {"statusCode": str(status_code), "code": code, "error": error or code, "message": message}
    return json_reply(doc, status=500 if status_code == 500 else 400)


def not_found(what: str = "Object") -> Reply:
    if what == "Bucket":
        return error_reply(404, "NoSuchBucket", "Bucket not found", error="Bucket not found")
    return error_reply(404, "NoSuchKey", "Object not found", error="not_found")


def fault_status_reply(status: int) -> Reply:
    """The body of an injected HTTP error: Storage-shaped JSON with the real HTTP status."""
    doc = {
        "statusCode": str(status),
        "code": "InternalError",
        "error": "Injected",
        "message": "injected fault",
    }
    return json_reply(doc, status=status)


# --- signed-URL tokens --------------------------------------------------------------------------


class TokenError(Exception):
    """The token is malformed, forged, expired or for another object."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: bytes, url: str, expires_in: int, *, now: float | None = None) -> str:
    """An HS256 JWT ``{"url": "<bucket>/<name>", "iat", "exp"}``, as Storage signs its URLs."""
    issued = int(time.time() if now is None else now)
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"url": url, "iat": issued, "exp": issued + expires_in}).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def verify_token(secret: bytes, token: str, url: str) -> None:
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        claims = json.loads(_unb64(payload))
        good_signature = hmac.compare_digest(expected, _unb64(signature))
    except (ValueError, TypeError) as exc:
        raise TokenError("malformed token") from exc
    if not good_signature:
        raise TokenError("invalid signature")
    if claims.get("url") != url:
        raise TokenError("token is for another object")
    if float(claims.get("exp", 0)) < time.time():
        raise TokenError("token expired")


# --- replies --------------------------------------------------------------------------------------


@dataclass
class Reply:
    """A response to send: a status, headers and a body held in memory or in a file."""

    status: int
    content_type: str
    data: bytes = b""
    path: Path | None = None
    size: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.path is None:
            self.size = len(self.data)


def json_reply(doc: Any, status: int = 200) -> Reply:
    return Reply(status=status, content_type="application/json", data=json.dumps(doc).encode())


def _chunks(reply: Reply, chunk_bytes: int, limit: int) -> Any:
    """The first ``limit`` bytes of the body, ``chunk_bytes`` at a time."""
    if reply.path is None:
        for start in range(0, min(limit, reply.size), chunk_bytes):
            yield reply.data[start : min(start + chunk_bytes, limit)]
        return
    with reply.path.open("rb") as body:
        left = limit
        while left > 0:
            chunk = body.read(min(chunk_bytes, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _reset_connection(request: web.Request) -> None:
    """Close with a TCP RST (SO_LINGER 0): the client sees ``connection reset by peer``."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def send_reply(request: web.Request, reply: Reply, failure: Fault | None) -> web.StreamResponse:
    """Write ``reply``, acting out a body-level ``failure`` (trickle, reset, truncate) if given."""
    response = web.StreamResponse(status=reply.status, headers=reply.headers)
    response.content_type = reply.content_type
    response.content_length = reply.size
    await response.prepare(request)

    kind = failure.kind if failure is not None else None
    limit = reply.size
    if failure is not None and kind in ("reset", "truncate"):
        limit = reply.size // 2 if failure.after_bytes is None else min(failure.after_bytes, reply.size)
    trickling = failure is not None and kind == "trickle"
    chunk_bytes = failure.chunk_bytes if failure is not None and trickling else CHUNK_BYTES

    for chunk in _chunks(reply, chunk_bytes, limit):
        await response.write(chunk)
        if trickling:
            assert failure is not None
            await asyncio.sleep(failure.interval_seconds)

    if kind == "reset":
        _reset_connection(request)
    elif kind == "truncate" and request.transport is not None:
        # A clean close (FIN) after fewer bytes than Content-Length promised.
        request.transport.close()
    else:
        await response.write_eof()
    return response
