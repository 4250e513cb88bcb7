"""Telemetry around every named query: a span, a duration, typed errors, an error count.

The span ``db.<query>`` covers waiting for a session and running the statements; the
``csvbot_db_query_duration_seconds{query}`` histogram covers only the statements, because the wait
has its own histogram (``csvbot_db_pool_wait_seconds``): a slow database and a too-small pool are
different problems with different fixes. Spans carry ``db.system`` and ``db.operation.name``, never
SQL text parameters, ids or driver messages (which can quote row values).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Generic, TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from service.errors import CsvbotError, DatabaseUnavailableError, InternalError
from telemetry.labels import DB_QUERIES
from telemetry.metrics import Metrics
from telemetry.tracing import exemplar

SessionT = TypeVar("SessionT")

#: Recognises a driver exception that means the database (not the query) failed.
IsUnavailable = Callable[[BaseException], bool]


class QueryInstrumentation(Generic[SessionT]):
    """Wraps "take a session, run statements" in the query's span, timing and error mapping."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        db_system: str,
        is_unavailable: IsUnavailable,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._metrics = metrics
        self._db_system = db_system
        self._is_unavailable = is_unavailable
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    @contextlib.asynccontextmanager
    async def query(
        self, name: str, session: Callable[[], AbstractAsyncContextManager[SessionT]]
    ) -> AsyncIterator[SessionT]:
        """Run the ``async with`` body as query ``name`` on a session from ``session()``."""
        if name not in DB_QUERIES:
            raise ValueError(f"unknown query name {name!r}: add it to telemetry.labels.DB_QUERIES")
        attributes = {"db.system": self._db_system, "db.operation.name": name}
        with self._tracer.start_as_current_span(
            f"db.{name}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,  # driver messages may quote parameter values
            set_status_on_exception=False,
        ) as span:
            try:
                async with session() as opened:
                    started = time.perf_counter()
                    try:
                        yield opened
                    finally:
                        elapsed = time.perf_counter() - started
                        self._metrics.db_query_duration.labels(name).observe(elapsed, exemplar=exemplar())
            except asyncio.CancelledError:
                raise
            except CsvbotError as exc:
                self._record(span, exc.kind)
                raise
            except Exception as exc:
                if self._is_unavailable(exc):
                    self._record(span, DatabaseUnavailableError.kind)
                    raise DatabaseUnavailableError(
                        f"database failed during {name}: {type(exc).__name__}"
                    ) from exc
                self._record(span, InternalError.kind)
                raise

    def _record(self, span: trace.Span, kind: str) -> None:
        self._metrics.count_error("db", kind)
        span.set_attribute("error.type", kind)
        span.set_status(Status(StatusCode.ERROR, kind))
