"""Measure every Bot API call and honour Telegram's flood control.

This is an aiogram *session* middleware: it wraps each request the ``Bot`` makes — from the bot's
handlers and from workers alike — so that ``csvbot_telegram_requests_total{method,status}`` and
the duration histogram see every call, and each call is a ``telegram.<method>`` span in the
update's or job's trace.

On 429 Telegram says how long to wait (``retry_after``); the request was refused, not performed,
so waiting and sending it again cannot duplicate anything. A 5xx or a network error is retried a
few times with backoff too: losing a user's reply is worse than the rare duplicate message.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from telemetry.labels import TELEGRAM_METHODS
from telemetry.metrics import Metrics
from telemetry.tracing import exemplar

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


def method_label(name: str) -> str:
    """The closed-set label for a Bot API method name."""
    return name if name in TELEGRAM_METHODS else "other"


class TelemetryRequestMiddleware(BaseRequestMiddleware):
    """Counts, times and traces Bot API calls; retries 429 after ``retry_after`` and 5xx."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        max_attempts: int = 5,
        max_retry_after: float = 60.0,
        max_flood_wait: float = 120.0,
        backoff_base: float = 0.5,
    ) -> None:
        self.metrics = metrics
        #: Attempts for 5xx and network errors, which may or may not have been performed.
        self.max_attempts = max_attempts
        #: A retry_after longer than this is not waited out: the caller gets the error.
        self.max_retry_after = max_retry_after
        #: 429s are retried for as long as their waits add up to at most this: a refused request
        #: was not performed, so sending it again is always safe, and under a 429 storm a fixed
        #: attempt count would drop replies that a little more patience delivers.
        self.max_flood_wait = max_flood_wait
        self.backoff_base = backoff_base

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        name = method.__api_method__
        label = method_label(name)
        # Long polling is not a user-facing call: no span, or every idle poll would be a trace.
        if name == "getUpdates":
            return await self._attempts(make_request, bot, method, label)
        with tracer.start_as_current_span(f"telegram.{label}", kind=trace.SpanKind.CLIENT) as span:
            span.set_attribute("telegram.method", name)
            try:
                return await self._attempts(make_request, bot, method, label, span)
            except TelegramAPIError as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise

    async def _attempts(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
        label: str,
        span: trace.Span | None = None,
    ) -> Response[Any]:
        attempt = 0
        flood_waited = 0.0
        while True:
            attempt += 1
            started = time.perf_counter()
            status = "ok"
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                status = "retry_after"
                delay = float(exc.retry_after)
                if delay > self.max_retry_after or flood_waited + delay > self.max_flood_wait:
                    raise
                flood_waited += delay
            except (TelegramServerError, TelegramNetworkError) as exc:
                status = "server_error" if isinstance(exc, TelegramServerError) else "network_error"
                if attempt >= self.max_attempts or label == "getUpdates":
                    raise  # the polling loop has its own backoff
                delay = random.uniform(0, self.backoff_base * 2 ** (attempt - 1))
            except TelegramAPIError:
                status = "client_error"
                raise
            finally:
                elapsed = time.perf_counter() - started
                self.metrics.telegram_requests.labels(label, status).inc()
                self.metrics.telegram_request_duration.labels(label).observe(elapsed, exemplar=exemplar())
                if span is not None:
                    span.set_attribute("telegram.attempts", attempt)
            log.warning(
                "Bot API %s failed with %s; retrying in %.2f s (attempt %d)",
                label,
                status,
                delay,
                attempt,
                extra={"event": "telegram_retry", "method": label, "status": status, "delay_seconds": delay},
            )
            await asyncio.sleep(delay)
