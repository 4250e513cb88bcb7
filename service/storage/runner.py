"""Runs one storage operation: deadline, retries, metrics, span and logs in one place.

Both backends call :meth:`OperationRunner.run` with a coroutine function that performs one
attempt and raises the storage errors of :mod:`service.errors`. The runner:

* bounds the whole operation, retries and backoff sleeps included, by one ``asyncio.timeout``.
  Expiry cancels the attempt in flight — httpx then closes its connection — and surfaces as
  :class:`~service.errors.StorageTimeoutError`. httpx's own timeouts cannot do this: they bound
  each connect/read/write separately, so a server trickling a byte every 100 ms never trips them;
* retries retryable errors of operations the caller marks ``retry=True`` (idempotent ones), with
  :class:`~service.storage.retry.RetryPolicy` backoff, never sleeping past the deadline;
* records ``csvbot_storage_request_duration_seconds{operation,outcome}``, retries, timeouts, slow
  operations and ``csvbot_errors_total{component="storage"}``; opens a ``storage.<operation>``
  span with the key, size, attempt count and outcome; logs failures and slow operations.

A caller's own cancellation (shutdown) is passed through untouched and not counted as an outcome.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from service.errors import CsvbotError, StorageTimeoutError, kind_of
from service.storage.retry import RetryPolicy
from telemetry import labels
from telemetry.metrics import Metrics
from telemetry.tracing import exemplar

__all__ = ["Attempt", "OperationRunner"]

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass
class Attempt:
    """What one attempt may tell the runner: which attempt it is, and the size it moved."""

    number: int
    span: Span

    def set_size(self, size_bytes: int) -> None:
        self.span.set_attribute("storage.size_bytes", size_bytes)


class OperationRunner:
    """Deadline + retries + telemetry for the operations of one storage backend."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        backend: str,
        timeout_seconds: float,
        slow_seconds: float,
        retry_policy: RetryPolicy,
        tracer_provider: trace.TracerProvider | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.metrics = metrics
        self.backend = backend
        self.timeout_seconds = timeout_seconds
        self.slow_seconds = slow_seconds
        self.retry_policy = retry_policy
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._rng = rng or random.Random()

    async def run(
        self,
        operation: str,
        key: str | None,
        attempt: Callable[[Attempt], Awaitable[T]],
        *,
        retry: bool,
        size_bytes: int | None = None,
    ) -> T:
        """Run ``attempt`` until it succeeds, fails for good, or the deadline passes."""
        if operation not in labels.STORAGE_OPERATIONS:
            raise ValueError(f"unknown storage operation {operation!r}")
        with self._tracer.start_as_current_span(
            f"storage.{operation}", record_exception=False, set_status_on_exception=False
        ) as span:
            span.set_attribute("storage.operation", operation)
            span.set_attribute("storage.backend", self.backend)
            if key is not None:
                span.set_attribute("storage.key", key)
            if size_bytes is not None:
                span.set_attribute("storage.size_bytes", size_bytes)
            return await self._run_in_span(operation, key, attempt, span, retry=retry)

    async def _run_in_span(
        self,
        operation: str,
        key: str | None,
        attempt: Callable[[Attempt], Awaitable[T]],
        span: Span,
        *,
        retry: bool,
    ) -> T:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.timeout_seconds
        state = Attempt(number=0, span=span)
        try:
            async with asyncio.timeout_at(deadline) as scope:
                result = await self._attempts(operation, key, attempt, state, deadline, retry=retry)
        except TimeoutError as exc:
            if not scope.expired():
                self._finish(operation, key, state, loop.time() - started, exc)
                raise
            error = StorageTimeoutError(
                f"storage {operation} did not finish within {self.timeout_seconds:g} s "
                f"({state.number} attempt(s))"
            )
            self._finish(operation, key, state, loop.time() - started, error)
            raise error from None
        except asyncio.CancelledError:
            span.set_attribute("storage.outcome", "cancelled")
            span.set_attribute("storage.attempts", state.number)
            raise
        except Exception as exc:
            self._finish(operation, key, state, loop.time() - started, exc)
            raise
        self._finish(operation, key, state, loop.time() - started, None)
        return result

    async def _attempts(
        self,
        operation: str,
        key: str | None,
        attempt: Callable[[Attempt], Awaitable[T]],
        state: Attempt,
        deadline: float,
        *,
        retry: bool,
    ) -> T:
        loop = asyncio.get_running_loop()
        policy = self.retry_policy
        while True:
            state.number += 1
            try:
                return await attempt(state)
            except CsvbotError as exc:
                if not (retry and exc.retryable and state.number < policy.max_attempts):
                    raise
                delay = policy.backoff(state.number, self._rng)
                if loop.time() + delay >= deadline:
                    raise  # no time for another attempt: report what actually went wrong
                self.metrics.storage_retries.labels(operation).inc()
                logger.info(
                    "storage %s failed (%s); retrying in %.3f s",
                    operation,
                    exc.kind,
                    delay,
                    extra={
                        "operation": operation,
                        "key": key,
                        "attempt": state.number,
                        "error_kind": exc.kind,
                    },
                )
                await asyncio.sleep(delay)

    def _finish(
        self, operation: str, key: str | None, state: Attempt, duration: float, error: BaseException | None
    ) -> None:
        outcome = "ok" if error is None else kind_of(error)
        if outcome not in labels.STORAGE_OUTCOMES:
            outcome = "internal"
        span = state.span
        span.set_attribute("storage.attempts", state.number)
        span.set_attribute("storage.outcome", outcome)
        self.metrics.storage_request_duration.labels(operation, outcome).observe(duration, exemplar())
        fields = {
            "operation": operation,
            "key": key,
            "backend": self.backend,
            "outcome": outcome,
            "attempts": state.number,
            "duration_seconds": round(duration, 6),
        }
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, outcome))
            span.record_exception(error)
            self.metrics.count_error("storage", outcome)
            if isinstance(error, StorageTimeoutError):
                self.metrics.storage_timeouts.labels(operation).inc()
            level = logging.ERROR if outcome == "internal" else logging.WARNING
            logger.log(
                level,
                "storage %s failed: %s",
                operation,
                outcome,
                exc_info=error if outcome == "internal" else None,
                extra={**fields, "error_kind": outcome, "error": str(error)},
            )
        if duration > self.slow_seconds and outcome != StorageTimeoutError.kind:
            self.metrics.storage_slow.labels(operation).inc()
            logger.warning(
                "storage %s was slow: %.3f s (threshold %g s)",
                operation,
                duration,
                self.slow_seconds,
                extra=fields,
            )
