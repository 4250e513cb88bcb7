"""Webhook delivery: while a webhook is set, pending updates are POSTed to it instead of polled.

As Telegram does: each update is a JSON POST carrying ``X-Telegram-Bot-Api-Secret-Token`` when a
secret was set; up to ``max_connections`` deliveries run at once; a 2xx removes the update, any
other answer or a connection error keeps it pending, is reported by ``getWebhookInfo`` and is
retried after a growing pause. A 2xx body may itself be a Bot API call (``{"method": ...}`` as
JSON or multipart form), which is executed like any other call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from emulators.telegram.params import Params, UploadedFile, read_multipart
from emulators.telegram.state import EmulatorState, WebhookConfig
from emulators.telegram.updates import Update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
# Retry pauses after failed deliveries: short enough for tests, capped like Telegram's backoff.
FIRST_RETRY_DELAY_SECONDS = 0.1
MAX_RETRY_DELAY_SECONDS = 5.0

ReplyExecutor = Callable[[str, Params], Awaitable[None]]

logger = logging.getLogger(__name__)


class WebhookDelivery:
    def __init__(self, state: EmulatorState, execute_reply: ReplyExecutor, *, timeout_seconds: float) -> None:
        self._state = state
        self._execute_reply = execute_reply
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()
        self._failures = 0
        self._resume_at = 0.0

    async def start(self) -> None:
        if self._loop_task is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._loop_task = asyncio.create_task(self._run(), name="telegram-webhook-delivery")
            # Let the loop take its first step: a task cancelled before it ever ran leaves a
            # "coroutine was never awaited" warning behind when start() is followed by stop().
            await asyncio.sleep(0)

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        arrival = self._state.updates.arrival
        while True:
            arrival.clear()
            hook = self._state.webhook
            pause = self._resume_at - time.monotonic()
            if hook is not None and pause <= 0:
                capacity = hook.max_connections - len(self._in_flight)
                if capacity > 0:
                    for update in self._state.updates.peek(capacity, exclude=self._in_flight):
                        self._spawn(hook, update)
            wait = pause if hook is not None and pause > 0 else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrival.wait(), wait)

    def _spawn(self, hook: WebhookConfig, update: Update) -> None:
        self._in_flight.add(update.update_id)
        task = asyncio.create_task(self._deliver(hook, update))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, hook: WebhookConfig, update: Update) -> None:
        assert self._session is not None
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        try:
            async with self._session.post(hook.url, json=update.to_json(), headers=headers) as response:
                if 200 <= response.status < 300:
                    self._state.updates.remove(update.update_id)
                    self._failures = 0
                    await self._run_reply(response)
                else:
                    self._failed(
                        hook, f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._failed(hook, f"Connection failed: {type(exc).__name__}")
        finally:
            self._in_flight.discard(update.update_id)
            self._state.updates.wake()

    def _failed(self, hook: WebhookConfig, message: str) -> None:
        hook.last_error_date = int(self._state.clock())
        hook.last_error_message = message
        self._failures += 1
        delay = min(FIRST_RETRY_DELAY_SECONDS * 2 ** (self._failures - 1), MAX_RETRY_DELAY_SECONDS)
        self._resume_at = time.monotonic() + delay

    async def _run_reply(self, response: aiohttp.ClientResponse) -> None:
        """Execute a Bot API call returned in the webhook's answer, if there is one."""
        values: dict[str, Any] = {}
        uploads: dict[str, UploadedFile] = {}
        method: object = None
        try:
            if response.content_type == "application/json":
                body = await response.json()
                if isinstance(body, dict):
                    values.update(body)
            elif response.content_type == "multipart/form-data":
                reader = aiohttp.MultipartReader(response.headers, response.content)
                await read_multipart(reader, values, uploads, self._state.limits.max_upload_bytes)
            method = values.pop("method", None)
            if isinstance(method, str) and method:
                await self._execute_reply(method, Params(values, uploads))
        except Exception:
            # Telegram never reports a failed webhook reply to the bot either; the log is the
            # only trace, for whoever runs the emulator.
            logger.exception("webhook reply %s could not be executed", method)
