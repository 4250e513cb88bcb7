"""Dispatcher middlewares: update telemetry and the per-user flood limit.

``UpdateTelemetryMiddleware`` (outer, on every update) opens the span that becomes the root of a
job's trace, times the update and counts it by handler and outcome. Which handler ran is only
known inside the router, so ``HandlerNameMiddleware`` (inner, runs only for a matched handler)
copies the handler's ``flags={"handler": …}`` into the per-update :class:`UpdateOutcome`.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import Message, TelegramObject, Update
from opentelemetry import trace

from service import messages
from service.errors import kind_of
from telemetry.labels import HANDLERS
from telemetry.metrics import Metrics
from telemetry.tracing import exemplar

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass
class UpdateOutcome:
    """Filled in while an update is handled; read by the telemetry middleware at the end."""

    handler: str = "other"
    outcome: str = "ok"
    error_kind: str | None = None


class UpdateTelemetryMiddleware(BaseMiddleware):
    def __init__(self, metrics: Metrics, active_users: ActiveUsers) -> None:
        self.metrics = metrics
        self.active_users = active_users

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        outcome = UpdateOutcome()
        data["update_outcome"] = outcome
        user = data.get("event_from_user")
        if user is not None:
            self.active_users.seen(user.id)
            self.metrics.active_users.set(self.active_users.count())
        started = time.perf_counter()
        with tracer.start_as_current_span("bot.update", kind=trace.SpanKind.SERVER) as span:
            span.set_attribute("telegram.update_id", event.update_id)
            if user is not None:
                span.set_attribute("telegram.user_id", user.id)
            try:
                return await handler(event, data)
            except Exception as exc:
                # The errors router (inside this middleware) handles and classifies errors; one
                # that gets here was not handled at all.
                outcome.outcome = "failed"
                outcome.error_kind = kind_of(exc)
                raise
            finally:
                elapsed = time.perf_counter() - started
                span.set_attribute("csvbot.handler", outcome.handler)
                span.set_attribute("csvbot.outcome", outcome.outcome)
                self.metrics.updates.labels(outcome.handler, outcome.outcome).inc()
                self.metrics.update_duration.labels(outcome.handler, outcome.outcome).observe(
                    elapsed, exemplar=exemplar()
                )


class UpdateOutcomeMiddleware(BaseMiddleware):
    """TELEMETRY=minimal: the per-update outcome that handlers fill in, with nothing measured."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["update_outcome"] = UpdateOutcome()
        return await handler(event, data)


class HandlerNameMiddleware(BaseMiddleware):
    """Inner middleware: records the matched handler's name for the telemetry middleware."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        name = get_flag(data, "handler", default="other")
        outcome: UpdateOutcome | None = data.get("update_outcome")
        if outcome is not None:
            outcome.handler = name if name in HANDLERS else "other"
        return await handler(event, data)


class ActiveUsers:
    """Distinct users seen in a sliding window, in bounded memory (oldest forgotten first)."""

    def __init__(self, window_seconds: float = 900.0, max_users: int = 100_000) -> None:
        self.window = window_seconds
        self.max_users = max_users
        self._last_seen: OrderedDict[int, float] = OrderedDict()

    def seen(self, user_id: int) -> None:
        now = time.monotonic()
        self._last_seen[user_id] = now
        self._last_seen.move_to_end(user_id)
        while len(self._last_seen) > self.max_users:
            self._last_seen.popitem(last=False)
        self._expire(now)

    def count(self) -> int:
        self._expire(time.monotonic())
        return len(self._last_seen)

    def _expire(self, now: float) -> None:
        while self._last_seen:
            _, oldest = next(iter(self._last_seen.items()))
            if now - oldest <= self.window:
                break
            self._last_seen.popitem(last=False)


class FloodLimitMiddleware(BaseMiddleware):
    """At most ``max_updates`` messages per user per ``window`` seconds (sliding window).

    The first refused message in a burst gets one polite reply; the rest are dropped silently
    (replying to each would itself flood the chat), but every one is counted.
    """

    def __init__(self, metrics: Metrics, max_updates: int, window: float, max_users: int = 100_000) -> None:
        self.metrics = metrics
        self.max_updates = max_updates
        self.window = window
        self.max_users = max_users
        self._hits: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is None or not isinstance(event, Message):
            return await handler(event, data)
        now = time.monotonic()
        hits = self._hits.pop(user.id, None) or deque()
        while hits and now - hits[0] > self.window:
            hits.popleft()
        self._hits[user.id] = hits
        if len(self._hits) > self.max_users:
            evicted, _ = self._hits.popitem(last=False)
            self._warned.discard(evicted)  # or ``_warned`` would grow without the bound
        if len(hits) >= self.max_updates:
            self.metrics.flood_limited.inc()
            self.metrics.count_error("bot", "flood_limited")
            outcome = data.get("update_outcome")
            if outcome is not None:
                outcome.outcome = "rejected"
                outcome.error_kind = "flood_limited"
            log.info("flood limit hit", extra={"event": "flood_limited", "user_id": user.id})
            if user.id not in self._warned:
                self._warned.add(user.id)
                await event.answer(messages.too_fast())
            return None
        self._warned.discard(user.id)
        hits.append(now)
        return await handler(event, data)
