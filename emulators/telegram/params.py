"""Bot API call parameters, read the four ways Telegram accepts them, and typed access to them.

Telegram takes parameters in the query string, as ``application/x-www-form-urlencoded``, as
``application/json`` or as ``multipart/form-data`` (aiogram uses the last two forms: every value a
string, objects JSON-encoded, files as parts referenced by ``attach://<name>``). The getters
accept both the string and the JSON-typed spelling of each value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from emulators.telegram.errors import bad_request, entity_too_large

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field_name: str
    filename: str
    content_type: str | None
    data: bytes


class Params:
    """One call's parameters with typed getters that fail as Telegram does (400)."""

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, UploadedFile] | None = None) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads or {})

    @classmethod
    async def from_request(cls, request: web.Request, *, max_body_bytes: int) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_length is not None and request.content_length > max_body_bytes:
                raise entity_too_large()
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise bad_request("can't parse JSON request body") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON request body must be an object")
                values.update(body)
            elif content_type == "multipart/form-data":
                await read_multipart(await request.multipart(), values, uploads, max_body_bytes)
            else:
                values.update(await request.post())
        return cls(values, uploads)

    def __contains__(self, name: str) -> bool:
        return self._values.get(name) not in (None, "")

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def get_str(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def require_str(self, name: str, problem: str) -> str:
        """The value, or 400 ``Bad Request: <problem>`` when missing or empty."""
        value = self.get_str(name)
        if not value:
            raise bad_request(problem)
        return value

    def get_int(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_float(self, name: str) -> float | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self._values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad_request(f"invalid {name} specified")

    def get_json(self, name: str) -> Any:
        """A JSON object or array parameter (decoded when sent as a string)."""
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def get_file(self, name: str) -> UploadedFile | str | None:
        """An uploaded file (by ``attach://`` reference or as the part itself) or a string id."""
        if name in self._uploads:
            return self._uploads[name]
        value = self.get_str(name)
        if value and value.startswith("attach://"):
            attached = self._uploads.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"file {value!r} not found in the request")
            return attached
        return value or None


async def read_multipart(
    reader: MultipartReader,
    values: dict[str, Any],
    uploads: dict[str, UploadedFile],
    max_body_bytes: int,
) -> None:
    """Read every part: files into ``uploads``, fields into ``values``; 413 past the limit."""
    total = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise bad_request("unsupported multipart part")
        chunks: list[bytes] = []
        while chunk := await part.read_chunk():
            total += len(chunk)
            if total > max_body_bytes:
                raise entity_too_large()
            chunks.append(chunk)
        data = b"".join(chunks)
        if part.filename is not None:
            content_type = part.headers.get("Content-Type")
            uploads[part.name] = UploadedFile(part.name, part.filename, content_type, data)
        else:
            values[part.name] = data.decode(part.get_charset("utf-8"), errors="replace")
