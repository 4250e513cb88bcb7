"""The control API over HTTP, under ``/_emulator/``: the in-process API for other processes.

Routes (JSON in and out unless noted; errors are ``{"ok": false, "error": "..."}``):

* ``GET  /_emulator/health`` — ``{"ok": true, "bot": <getMe result>}``
* ``POST /_emulator/users`` ``{"first_name"?, "username"?, "language_code"?, "id"?}`` → user
* ``GET  /_emulator/users`` → list of users
* ``POST /_emulator/users/{user_id}/messages`` ``{"text"}`` → transcript entry
* ``POST /_emulator/users/{user_id}/documents`` multipart: file part ``document``, optional
  fields ``caption`` and ``mime_type`` → transcript entry
* ``POST /_emulator/users/{user_id}/callbacks`` ``{"message_id", "data"}`` → callback query
* ``GET  /_emulator/chats/{chat_id}/transcript?since=R&timeout=S`` → ``{"chat_id",
  "revision", "entries"}``; with ``since``, only entries changed after revision ``R``, waiting
  up to ``S`` seconds for one (a long poll for processes that cannot pass a predicate)
* ``GET  /_emulator/files/{file_id}`` → the raw bytes
* ``GET  /_emulator/callbacks/{query_id}`` → callback query with the bot's answer
* ``GET|POST|DELETE /_emulator/faults`` (list, add a rule, clear); ``DELETE .../faults/{id}``
* ``GET  /_emulator/stats`` → counters and sizes; ``POST /_emulator/stats/reset``
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from aiohttp import BodyPartReader, web

from emulators.telegram.faults import FAULT_KINDS, FaultKind, FaultRule
from emulators.telegram.objects import EmulatedUser
from emulators.telegram.server import json_response

if TYPE_CHECKING:
    from emulators.telegram.emulator import TelegramEmulator

PREFIX = "/_emulator"
# A transcript long poll may wait at most this long: below aiohttp clients' default timeouts.
MAX_WAIT_SECONDS = 60.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _user_json(user: EmulatedUser) -> dict[str, Any]:
    return {**user.to_json(), "chat_id": user.chat_id}


def _int_arg(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer") from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ControlError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


class ControlApi:
    def __init__(self, emulator: TelegramEmulator) -> None:
        self._emulator = emulator

    def add_routes(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/health", self.health),
            ("POST", "/users", self.create_user),
            ("GET", "/users", self.list_users),
            ("POST", "/users/{user_id}/messages", self.send_text),
            ("POST", "/users/{user_id}/documents", self.send_document),
            ("POST", "/users/{user_id}/callbacks", self.press_button),
            ("GET", "/chats/{chat_id}/transcript", self.transcript),
            ("GET", "/files/{file_id}", self.read_file),
            ("GET", "/callbacks/{query_id}", self.callback_query),
            ("GET", "/faults", self.list_faults),
            ("POST", "/faults", self.add_fault),
            ("DELETE", "/faults", self.clear_faults),
            ("DELETE", "/faults/{rule_id}", self.remove_fault),
            ("GET", "/stats", self.stats),
            ("POST", "/stats/reset", self.reset_stats),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, self._guarded(handler))

    @staticmethod
    def _guarded(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except ControlError as exc:
                return json_response({"ok": False, "error": str(exc)}, exc.status)
            except LookupError as exc:
                return json_response({"ok": False, "error": str(exc.args[0])}, 404)
            except ValueError as exc:
                return json_response({"ok": False, "error": str(exc)}, 400)

        return guarded

    async def health(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "bot": self._emulator.bot.to_json()})

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        user = self._emulator.create_user(
            body.get("first_name"),
            username=body.get("username"),
            language_code=body.get("language_code", "en"),
            user_id=_int_arg(body["id"], "id") if "id" in body else None,
        )
        return json_response(_user_json(user), 201)

    async def list_users(self, request: web.Request) -> web.Response:
        return json_response([_user_json(user) for user in self._emulator.users()])

    async def send_text(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise ControlError(400, "text must be a non-empty string")
        user_id = _int_arg(request.match_info["user_id"], "user_id")
        entry = self._emulator.send_text(user_id, text)
        return json_response(entry.to_control_json(), 201)

    async def send_document(self, request: web.Request) -> web.Response:
        user_id = _int_arg(request.match_info["user_id"], "user_id")
        fields: dict[str, str] = {}
        document: tuple[str, bytes, str | None] | None = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ControlError(400, "nested multipart is not supported")
            if part.name == "document" and part.filename:
                data = bytes(await part.read())
                document = (part.filename, data, part.headers.get("Content-Type"))
            elif part.name:
                fields[part.name] = await part.text()
        if document is None:
            raise ControlError(400, "a multipart file part named 'document' is required")
        file_name, data, content_type = document
        entry = await self._emulator.send_document(
            user_id,
            data,
            file_name,
            mime_type=fields.get("mime_type") or content_type,
            caption=fields.get("caption"),
        )
        return json_response(entry.to_control_json(), 201)

    async def press_button(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        user_id = _int_arg(request.match_info["user_id"], "user_id")
        record = self._emulator.press_button(
            user_id, _int_arg(body.get("message_id"), "message_id"), str(body.get("data", ""))
        )
        return json_response(dataclasses.asdict(record), 201)

    async def transcript(self, request: web.Request) -> web.Response:
        chat_id = _int_arg(request.match_info["chat_id"], "chat_id")
        chat = self._emulator.state.chat(chat_id)
        since = request.query.get("since")
        if since is None:
            entries = chat.entries()
        else:
            revision = _int_arg(since, "since")
            timeout = min(float(request.query.get("timeout", "0")), MAX_WAIT_SECONDS)
            await chat.wait_changed(revision, timeout)
            entries = chat.changed_since(revision)
        return json_response(
            {
                "chat_id": chat_id,
                "revision": chat.revision,
                "entries": [entry.to_control_json() for entry in entries],
            }
        )

    async def read_file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await self._emulator.read_file(file_id)
        stored = self._emulator.state.files.get(file_id)
        assert stored is not None
        return web.Response(
            body=data,
            content_type=stored.mime_type,
            headers={"Content-Disposition": f'attachment; filename="{stored.file_name}"'},
        )

    async def callback_query(self, request: web.Request) -> web.Response:
        record = self._emulator.callback_query(request.match_info["query_id"])
        return json_response(dataclasses.asdict(record))

    async def list_faults(self, request: web.Request) -> web.Response:
        return json_response([rule.to_json() for rule in self._emulator.faults()])

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        kind = body.get("kind")
        if kind not in FAULT_KINDS:
            raise ControlError(400, f"kind must be one of {list(FAULT_KINDS)}")
        methods = body.get("methods", [])
        if not isinstance(methods, str | list):
            raise ControlError(400, "methods must be a string or a list of strings")
        count = body.get("count")
        rule = FaultRule(
            kind=cast(FaultKind, kind),
            methods=frozenset([methods] if isinstance(methods, str) else map(str, methods)),
            count=None if count is None else _int_arg(count, "count"),
            probability=float(body.get("probability", 1.0)),
            retry_after=int(body.get("retry_after", 1)),
            status=int(body.get("status", 500)),
            latency_seconds=float(body.get("latency_seconds", 0.0)),
        )
        return json_response(self._emulator.add_fault(rule).to_json(), 201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self._emulator.clear_faults()
        return json_response({"ok": True})

    async def remove_fault(self, request: web.Request) -> web.Response:
        rule_id = _int_arg(request.match_info["rule_id"], "rule_id")
        if not self._emulator.remove_fault(rule_id):
            raise ControlError(404, f"no fault rule {rule_id}")
        return json_response({"ok": True})

    async def stats(self, request: web.Request) -> web.Response:
        return json_response(self._emulator.snapshot())

    async def reset_stats(self, request: web.Request) -> web.Response:
        self._emulator.stats.reset()
        return json_response({"ok": True})
