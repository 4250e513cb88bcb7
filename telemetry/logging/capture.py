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
* the **exception's message** (``str(exc)``, ~0.2 µs), for the ``exc_message`` field and the last
  line of the stack: an exception's ``__str__`` may read state that changes, or fail, later. The
  rest of the exception — type, kind, traceback, chained causes — is only *referenced*: the writer
  formats it (``stack``). Merely capturing a 20-frame traceback costs the standard ``traceback``
  module ~70 µs, which an error storm would spend on the event loop.

  The price of the reference: a queued exception keeps its traceback's frames alive, and with them
  their locals — in csvbot, possibly whole CSV buffers — until the writer has written its line.
  That is bounded: an exception travels by reference only while fewer than
  :data:`LIVE_TRACEBACK_LIMIT` records are queued. Behind a stuck writer, when the queue is longer
  than that, the caller freezes the traceback instead (``stack.freeze``: code objects and line
  numbers, no frames; ~0.2 µs per frame) — so at most that many queued records, plus the batch
  being written, pin frames, however large ``queue_size`` is. What can still change between the
  call and the line: the messages and notes of *chained* exceptions (read by the writer), and the
  chain itself if the exception is raised again elsewhere before its line is written.

The original record is never modified (another handler, e.g. pytest's capture, may see it next).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, NamedTuple

import orjson
from opentelemetry.context import Context, get_current

from telemetry.logging.queue import BoundedLogQueue
from telemetry.logging.stack import FrozenStack, freeze, render

__all__ = [
    "LIVE_TRACEBACK_LIMIT",
    "CapturedException",
    "LogEntry",
    "QueueingHandler",
    "RecordShape",
    "capture",
]

#: Types whose value cannot change after the call: safe to render or serialize later, elsewhere.
_IMMUTABLE_TYPES: frozenset[type] = frozenset(
    {str, int, float, bool, type(None), bytes, complex, Decimal, uuid.UUID}
    | {dt.datetime, dt.date, dt.time, dt.timedelta}
)


#: Up to this many queued records, a logged exception travels by reference (its frames alive until
#: its line is written); past it, the caller freezes it. 256, one full batch: a writer that keeps up
#: rarely has more than a few dozen records queued, even in an error storm, so the limit is reached
#: only behind a stuck sink — and it caps the memory pinned there at 256 failed calls' locals.
LIVE_TRACEBACK_LIMIT = 256


class CapturedException(NamedTuple):
    """A logged exception: its message as at the call, and the rest by reference or frozen."""

    exc_type: type[BaseException]
    #: ``str(exc)`` at the call.
    message: str
    #: The exception itself (pins its frames until the line is written), or None when frozen.
    live: BaseException | None
    #: The traceback as at the call: a later re-raise puts more frames in front of
    #: ``exc.__traceback__``, and the line must show the stack of the call.
    traceback: TracebackType | None
    #: The chain, frozen on the caller (no frames pinned), when ``live`` is None.
    frozen: FrozenStack | None
    frozen_kind: str | None

    @classmethod
    def from_exception(cls, exc: BaseException, tb: TracebackType | None, *, live: bool) -> CapturedException:
        message = _safe_str(exc)
        if live:
            return _new_entry(cls, (type(exc), message, exc, tb, None, None))
        return cls(type(exc), message, None, None, freeze(exc, tb, message), _kind_of(exc))

    @property
    def type_name(self) -> str:
        """``module.Class``; ``Class`` alone for built-ins."""
        exc_type = self.exc_type
        module = exc_type.__module__
        return exc_type.__qualname__ if module == "builtins" else f"{module}.{exc_type.__qualname__}"

    @property
    def kind(self) -> str | None:
        """The error's stable ``kind`` when it has one (csvbot's error tree), else None."""
        return _kind_of(self.live) if self.live is not None else self.frozen_kind

    def stack(self) -> str:
        """The full traceback text, chained causes included (reads source lines: writer only)."""
        frozen = self.frozen
        if frozen is None and self.live is not None:
            frozen = freeze(self.live, self.traceback, self.message)
        return render(frozen) if frozen is not None else ""


def _kind_of(exc: BaseException) -> str | None:
    kind = getattr(exc, "kind", None)
    return kind if isinstance(kind, str) else None


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


def capture(
    record: logging.LogRecord, shape: RecordShape, queue: BoundedLogQueue[LogEntry] | None = None
) -> LogEntry:
    """Take from ``record`` what must be taken on the caller's thread (module docstring).

    ``queue`` is where the entry goes: its length decides whether an exception may travel by
    reference. This runs on every logging call, so it is written for speed (~1 µs): no helper
    calls on the common path, and the entry is built with ``tuple.__new__`` rather than the slower
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
        live = queue is None or len(queue) < LIVE_TRACEBACK_LIMIT
        exception = CapturedException.from_exception(exc_info[1], exc_info[2], live=live)
        if not live:
            # Queue a copy without the traceback so the frames can be freed.
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
            self.queue.put(capture(record, self._shape, self.queue))
        except Exception:
            self.handleError(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put(capture(record, self._shape, self.queue))
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        """Nothing to do here: the writer flushes; see ``LoggingRuntime.flush``."""
