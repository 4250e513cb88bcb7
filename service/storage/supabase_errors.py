"""Map what Supabase Storage and httpx raise onto csvbot's storage errors.

Supabase Storage sends most errors as HTTP 400 with the real status in the JSON body's
``statusCode`` (a missing object is ``400 {"statusCode": "404", …}``; see
supabase/storage ``src/http/error-handler.ts``), so the body's code wins over the HTTP status.
storage3's ``StorageApiError.status`` already carries that body code (or the HTTP status when
the body is not Storage JSON, e.g. a gateway's 503 page).
"""

from __future__ import annotations

import json

import httpx
from storage3.exceptions import StorageApiError

from service.errors import (
    CsvbotError,
    StorageIntegrityError,
    StorageNotFoundError,
    StorageRejectedError,
    StorageTimeoutError,
    StorageUnavailableError,
)

__all__ = ["from_api_error", "from_response", "from_status", "from_transport", "status_of"]

#: 4xx answers that mean "not now" rather than "never": request timeout, too many requests.
_RETRYABLE_4XX = frozenset({408, 429})


def from_status(status: int, detail: str) -> CsvbotError:
    """The storage error for an error status (the body's ``statusCode`` when it has one)."""
    message = f"storage answered {status}: {detail}"
    if status == 404:
        return StorageNotFoundError(message)
    if status >= 500 or status in _RETRYABLE_4XX:
        return StorageUnavailableError(message)
    return StorageRejectedError(message)


def status_of(value: int | str, fallback: int) -> int:
    """``statusCode`` as an int; Storage sends it as a string (``"404"``)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback


def from_api_error(exc: StorageApiError) -> CsvbotError:
    """Classify storage3's error (raised for any HTTP error answer)."""
    return from_status(status_of(exc.status, 500), f"{exc.code}: {exc.message}")


def from_response(http_status: int, body: bytes) -> CsvbotError:
    """Classify an error answer we read ourselves (the streaming download)."""
    status, detail = http_status, body[:200].decode("utf-8", "replace")
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        status = status_of(doc.get("statusCode", http_status), http_status)
        detail = f"{doc.get('error') or doc.get('code') or ''}: {doc.get('message', '')}"
    return from_status(status, detail)


def from_transport(exc: httpx.HTTPError, *, in_body: bool = False) -> CsvbotError:
    """Classify an httpx failure. ``in_body``: it happened while reading a response body.

    A peer that closes cleanly before sending all of ``Content-Length`` is an incomplete transfer
    (``RemoteProtocolError`` mid-body): integrity. A reset, refused or failed connection is
    unavailability. httpx's own phase timeouts count as timeouts; all three are retryable.
    """
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return StorageTimeoutError(f"storage request timed out ({detail})")
    if in_body and isinstance(exc, httpx.RemoteProtocolError):
        return StorageIntegrityError(f"download ended before its declared size ({detail})")
    return StorageUnavailableError(f"storage unreachable ({detail})")
