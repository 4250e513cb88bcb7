"""One JSON object per log line, built on the writer thread with python-json-logger's orjson formatter.

Fields, in this order:

``timestamp``  ISO 8601 in UTC (``2025-01-31T12:00:00.123456Z``), when the call was made
``level``      ``DEBUG`` … ``CRITICAL``
``logger``     the logger's name (``service.bot.upload``, ``aiogram.dispatcher``, …)
``message``    the rendered message
``service``    ``csvbot-bot`` / ``csvbot-worker``
``trace_id``   32 hex digits, ``span_id`` 16 hex digits — only when a span was active at the call
``exc_type``   ``module.Class`` of a logged exception (``ValueError`` for built-ins),
``exc_message``, ``error_kind`` (csvbot errors' stable kind) and ``stack`` (the full traceback text,
               chained causes included; rendered here, see ``stack.py``) — only when the call
               carried an exception
``stack_info`` the caller's stack when the call asked for ``stack_info=True``
…              every ``extra={...}`` field, flattened; an extra whose name collides with a field
               above is written as ``extra_<name>`` rather than overwrite it.
"""

from __future__ import annotations

import itertools
import logging
import time

import orjson
from opentelemetry.context import Context
from opentelemetry.trace import get_current_span
from pythonjsonlogger.core import RESERVED_ATTRS, LogData
from pythonjsonlogger.orjson import OrjsonFormatter

from telemetry.logging.capture import LogEntry, RecordShape, capture

__all__ = ["JsonLineFormatter"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


class _UtcTimestamps:
    """ISO 8601 UTC text of a Unix time, ``2025-01-31T12:00:00.123456Z``.

    The date and time of day are formatted once per second and reused: building a ``datetime``
    per record costs as much as a third of the JSON encoding.
    """

    def __init__(self) -> None:
        # One tuple, swapped in one assignment: a reader on another thread never pairs a
        # second with another second's text.
        self._cached: tuple[int, str] = (-1, "")

    def __call__(self, created: float) -> str:
        second = int(created)
        cached_second, prefix = self._cached
        if second != cached_second:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._cached = (second, prefix)
        return "%s.%06dZ" % (prefix, (created % 1) * 1e6)  # noqa: UP031 - the fastest spelling


class JsonLineFormatter(OrjsonFormatter):
    """Formats queued :class:`LogEntry` objects (and, for other handlers, plain records)."""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name
        self._skip = frozenset(RESERVED_ATTRS) | {"message", "asctime", "taskName"}
        self._shape = RecordShape.of_this_python()
        self._plain_size = self._shape.plain_size
        self._timestamp = _UtcTimestamps()
        self._last_span_ids: tuple[Context | None, tuple[str, str] | None] = (None, None)

    def format(self, record: logging.LogRecord) -> str:
        """Standard ``Formatter`` API, so the same JSON can serve any other handler."""
        return self.format_entry(capture(record, self._shape))

    def format_entry(self, entry: LogEntry) -> str:
        """The JSON line of one queued call. Runs once per record on the writer thread, so the
        steps are inlined rather than split into helper methods (~2 µs per record)."""
        record = entry.record
        message = entry.message
        if message is None:  # LogRecord.getMessage(), without the method call
            message = str(record.msg)
            if record.args:
                message = message % record.args
        log_data: LogData = {
            "timestamp": self._timestamp(entry.created),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
            "service": self.service_name,
        }

        # Span ids: records in a row usually share one context object, so remember the last.
        context = entry.context
        cached_context, ids = self._last_span_ids
        if context is not cached_context:
            span_context = get_current_span(context).get_span_context()
            ids = None
            if span_context.is_valid:
                ids = (format(span_context.trace_id, "032x"), format(span_context.span_id, "016x"))
            self._last_span_ids = (context, ids)
        if ids is not None:
            log_data["trace_id"], log_data["span_id"] = ids

        exception = entry.exception
        if exception is not None:
            log_data["exc_type"] = exception.type_name
            log_data["exc_message"] = exception.message
            if exception.kind is not None:
                log_data["error_kind"] = exception.kind
            log_data["stack"] = exception.stack()
        if record.stack_info:
            log_data["stack_info"] = record.stack_info

        # Extras follow the standard attributes in the record's (insertion-ordered) __dict__.
        skip = self._skip
        for key, value in itertools.islice(record.__dict__.items(), self._plain_size, None):
            if key in skip or key[0] == "_":
                continue
            log_data["extra_" + key if key in log_data else key] = value
        snapshots = entry.extra_snapshots
        if snapshots is not None:  # values frozen at the call replace the live ones
            for key, value in snapshots.items():
                # Overwrite what the loop above wrote for this extra, under the same name.
                renamed = "extra_" + key
                log_data[renamed if renamed in log_data else key] = value

        # Straight to the encoder: no ``prefix``, and ``process_log_record`` is this method.
        return self.jsonify_log_record(log_data)

    def format_failure(self, entry: LogEntry, error: Exception) -> str:
        """A line that still says what was logged when the call itself was broken
        (``log.info("%d", "x")``, an ``extra`` orjson cannot encode, …)."""
        record = entry.record
        data = {
            "timestamp": self._timestamp(entry.created),
            "level": record.levelname,
            "logger": record.name,
            "message": repr(record.msg)[:1000],
            "service": self.service_name,
            "log_error": f"{type(error).__name__}: {error}",
        }
        return self.jsonify_log_record(data)

    def jsonify_log_record(self, log_data: LogData) -> str:
        # As OrjsonFormatter, plus "Z" rather than "+00:00" for UTC timestamps.
        return orjson.dumps(log_data, default=self.json_default, option=_OPTIONS).decode()
