"""What a logging call does on the caller's thread: capture the little that cannot wait, queue it.

The caller's thread is usually the event loop, so it does no formatting, no JSON, no redaction and
no I/O. It captures only what would be wrong or unsafe to read later, on the writer thread:

* the **OpenTelemetry context** — it lives in a context variable of the caller's thread/task, so
  the writer would see none. The caller keeps a reference to the current ``Context`` (immutable:
  OpenTelemetry copies it on every change), ~0.06 µs; the writer looks up the span in it and
  writes its ids — a third of a microsecond that would otherwise be spent on the caller.
* the **message arguments, when they can change**. Rendering ``msg % args`` is deferred to the
  writer when every argument is of an immutable type (str, int, float, bool, None, bytes, Decimal,
  UUID, date/time): such arguments render the same later, on any thread. Any other argument — a
  list, a dict, an object whose ``__str__`` reads mutable state — is rendered now: the caller may
  mutate it right after the call, and rendering it on another thread could read it half-changed or
  fail with "dictionary changed size during iteration".
* ``extra`` values of other than those immutable types, for the same reason: they are snapshotted
  with ``orjson`` (an ``orjson.Fragment`` that the writer splices into the line as is). Scalar
  extras — the usual case — cost nothing here.
* the **exception**, as a ``traceback.TracebackException`` without source lines (those are read
  by the writer through ``linecache``). Unlike ``QueueHandler.prepare()``, which drops
  ``exc_info``, the type, message and stack all survive. The traceback's frames are *not* kept
  alive: they hold the locals of every frame — in csvbot, whole CSV buffers — and a queue of
  10,000 records must not pin that much memory.

The original record is never modified (another handler, e.g. pytest's capture, may see it next).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import logging
import traceback
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import orjson
from opentelemetry.context import Context, get_current

from telemetry.logging.queue import BoundedLogQueue

__all__ = ["CapturedException", "LogEntry", "QueueingHandler", "RecordShape", "capture"]

#: Types whose value cannot change after the call: safe to render or serialize later, elsewhere.
_IMMUTABLE_TYPES: frozenset[type] = frozenset(
    {str, int, float, bool, type(None), bytes, complex, Decimal, uuid.UUID}
    | {dt.datetime, dt.date, dt.time, dt.timedelta}
)


@dataclass(frozen=True, slots=True)
class CapturedException:
    """An exception frozen at the logging call, without references to its frames."""

    type_name: str
    message: str
    #: The error's stable ``kind`` when it has one (csvbot's error tree), else None.
    kind: str | None
    traceback: traceback.TracebackException

    @classmethod
    def from_exception(cls, exc: BaseException) -> CapturedException:
        exc_type = type(exc)
        module = exc_type.__module__
        name = exc_type.__qualname__ if module == "builtins" else f"{module}.{exc_type.__qualname__}"
        kind = getattr(exc, "kind", None)
        return cls(
            type_name=name,
            message=_safe_str(exc),
            kind=kind if isinstance(kind, str) else None,
            traceback=traceback.TracebackException.from_exception(exc, lookup_lines=False),
        )

    def stack(self) -> str:
        """The full traceback text, chained causes included (reads source lines: writer only)."""
        return "".join(self.traceback.format()).rstrip("\n")


class LogEntry(NamedTuple):
    """One queued logging call."""

    record: logging.LogRecord
    levelno: int
    created: float
    #: ``msg % args`` rendered at the call, or None when the writer may render it.
    message: str | None
    #: The OpenTelemetry context active at the call (holds the current span, if any).
    context: Context
    exception: CapturedException | None
    #: ``extra`` fields snapshotted at the call (non-immutable values), by name.
    extra_snapshots: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RecordShape:
    """The attributes of a plain LogRecord: anything beyond them came from ``extra``."""

    standard: frozenset[str]
    #: How many attributes a record without extras has: a cheaper first test than a set walk.
    plain_size: int

    @classmethod
    def of_this_python(cls) -> RecordShape:
        plain = logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__
        # "message" and "asctime" appear once some formatter has seen the record.
        return cls(frozenset(plain) | {"message", "asctime", "taskName"}, len(plain))


def capture(record: logging.LogRecord, shape: RecordShape) -> LogEntry:
    """Take from ``record`` what must be taken on the caller's thread (module docstring).

    This runs on every logging call, so it is written for speed (~1 µs): no helper calls on the
    common path, and the entry is built with ``tuple.__new__`` rather than the slower
    ``NamedTuple`` constructor.
    """
    message = None
    args = record.args
    if type(record.msg) is not str:
        message = _render_now(record)
    elif args:
        if type(args) is not tuple:  # a mapping, for "%(name)s" formats
            message = _render_now(record)
        else:
            for arg in args:
                if type(arg) not in _IMMUTABLE_TYPES:
                    message = _render_now(record)
                    break

    exception = None
    exc_info = record.exc_info
    if exc_info and exc_info[1] is not None:
        exception = CapturedException.from_exception(exc_info[1])
        # Queue a copy without the traceback so the frames can be freed (rare path: ~3 µs).
        record = copy.copy(record)
        record.exc_info = None
        record.exc_text = None

    snapshots = None
    attributes = record.__dict__
    if len(attributes) > shape.plain_size:
        # makeRecord adds ``extra`` after the standard attributes, and a dict keeps insertion
        # order: look only past the first ``plain_size`` values.
        for value in itertools.islice(attributes.values(), shape.plain_size, None):
            if type(value) not in _IMMUTABLE_TYPES:
                snapshots = _snapshot_mutable_extras(attributes, shape)
                break

    return _new_entry(
        LogEntry,
        (record, record.levelno, record.created, message, get_current(), exception, snapshots),
    )


_new_entry = tuple.__new__


def _render_now(record: logging.LogRecord) -> str | None:
    try:
        return record.getMessage()
    except Exception:
        return None  # the writer renders again and logs the failure in the line


def _snapshot_mutable_extras(attributes: dict[str, Any], shape: RecordShape) -> dict[str, Any] | None:
    snapshots: dict[str, Any] | None = None
    for key, value in itertools.islice(attributes.items(), shape.plain_size, None):
        if type(value) in _IMMUTABLE_TYPES or key in shape.standard:
            continue
        if snapshots is None:
            snapshots = {}
        try:
            snapshots[key] = orjson.Fragment(
                orjson.dumps(value, default=_safe_str, option=orjson.OPT_NON_STR_KEYS)
            )
        except (TypeError, orjson.JSONEncodeError):
            snapshots[key] = _safe_str(value)
    return snapshots


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


class QueueingHandler(logging.Handler):
    """The root handler: captures each record (see module docstring) and queues it.

    It skips ``logging.Handler``'s per-handler lock: the queue is thread-safe on its own, and the
    lock would serialise every logging thread for nothing.
    """

    def __init__(self, queue: BoundedLogQueue[LogEntry], level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.queue = queue
        self._shape = RecordShape.of_this_python()

    def handle(self, record: logging.LogRecord) -> bool:
        if self.filters:
            verdict = self.filter(record)
            if not verdict:
                return False
            if isinstance(verdict, logging.LogRecord):  # 3.12+: a filter may swap the record
                record = verdict
        try:  # emit(), inlined: this is the hot path
            self.queue.put(capture(record, self._shape))
        except Exception:
            self.handleError(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put(capture(record, self._shape))
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        """Nothing to do here: the writer flushes; see ``LoggingRuntime.flush``."""
