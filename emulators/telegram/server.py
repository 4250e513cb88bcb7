"""The Bot API over HTTP: ``/bot<token>/<method>`` and ``/file/bot<token>/<file_path>``.

Every call passes, in order: token check (401), method lookup (404), parameter parsing (413 or
400), injected faults (latency, then 429/5xx), the method itself. Each answer is counted in
``CallStats`` under the method's canonical name ("unknown" for methods that do not exist);
file downloads count as the pseudo-method ``downloadFile``, which faults can target too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import web

from emulators.telegram.errors import (
    BotApiError,
    method_not_found,
    not_found,
    server_error,
    unauthorized,
)
from emulators.telegram.methods import BOT_API_METHODS, MethodHandler
from emulators.telegram.params import Params
from emulators.telegram.state import EmulatorState

DOWNLOAD_METHOD = "downloadFile"
UNKNOWN_METHOD = "unknown"
# Room for multipart boundaries and the other fields around a maximal 50 MB upload.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024

logger = logging.getLogger(__name__)


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


class BotApi:
    """The request handlers of the Bot API part of the emulator."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self.max_body_bytes = state.limits.max_upload_bytes + MULTIPART_OVERHEAD_BYTES

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self.handle_download)

    async def handle_method(self, request: web.Request) -> web.Response:
        known = BOT_API_METHODS.get(request.match_info["method"].lower())
        name = known[0] if known else UNKNOWN_METHOD
        try:
            if request.match_info["token"] != self._state.bot.token:
                raise unauthorized()
            if known is None:
                raise method_not_found()
            params = await Params.from_request(request, max_body_bytes=self.max_body_bytes)
            status, body = await self.call(name, known[1], params)
        except BotApiError as exc:
            status, body = exc.error_code, exc.to_json()
            self._state.stats.record(name, status)
        return json_response(body, status)

    async def call(self, name: str, handler: MethodHandler, params: Params) -> tuple[int, Any]:
        """Run one method with faults applied; returns the HTTP status and body, and counts it."""
        try:
            await self._apply_faults(name)
            result = await handler(self._state, params)
        except BotApiError as exc:
            status, body = exc.error_code, exc.to_json()
        except Exception:
            # A bug in the emulator: answer like Telegram's 500 so the bot sees a server error.
            logger.exception("Bot API method %s failed inside the emulator", name)
            error = server_error(500)
            status, body = error.error_code, error.to_json()
        else:
            status, body = 200, {"ok": True, "result": result}
        self._state.stats.record(name, status)
        return status, body

    async def execute_reply(self, method: str, params: Params) -> None:
        """Run a call a webhook answered with; its result goes nowhere, as on Telegram."""
        known = BOT_API_METHODS.get(method.lower())
        if known is None:
            self._state.stats.record(UNKNOWN_METHOD, 404)
            return
        status, body = await self.call(known[0], known[1], params)
        if status != 200:
            logger.warning("webhook reply %s answered %s: %s", known[0], status, body)

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        try:
            if request.match_info["token"] != self._state.bot.token:
                raise unauthorized()
            await self._apply_faults(DOWNLOAD_METHOD)
            stored = self._state.files.get_by_path(request.match_info["file_path"])
            if stored is None:
                raise not_found()
            data = await self._state.files.read(stored.file_id)
        except BotApiError as exc:
            self._state.stats.record(DOWNLOAD_METHOD, exc.error_code)
            return json_response(exc.to_json(), exc.error_code)
        self._state.stats.record(DOWNLOAD_METHOD, 200)
        return web.Response(body=data, content_type=stored.mime_type)

    async def _apply_faults(self, name: str) -> None:
        decision = self._state.faults.decide(name)
        if decision.latency_seconds > 0:
            await asyncio.sleep(decision.latency_seconds)
        if decision.error is not None:
            raise decision.error


async def handle_unknown_path(request: web.Request) -> web.Response:
    """Anything outside the routes: Telegram's JSON 404 rather than aiohttp's text page."""
    return json_response(not_found().to_json(), 404)
