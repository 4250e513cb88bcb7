"""csvbot's logging: JSON lines on stderr (and a file), written off the caller's thread.

Start it once, early, and stop it last::

    runtime = setup_logging(service_name="csvbot-bot", level=settings.log_level,
                            log_file=settings.log_file, queue_size=settings.log_queue_size,
                            metrics=metrics)
    for secret in (settings.bot_token, settings.supabase_key, ...):
        register_secret(secret.get_secret_value())
    ...
    runtime.stop(timeout=2.0)   # flushes; also done at exit by an atexit hook

How a record travels (one module per step):

1. ``capture`` — on the caller's thread, the root handler captures the OpenTelemetry
   context, mutable arguments and the exception's message (the exception itself travels by
   reference), and puts the record on the queue. No formatting,
   no I/O. ``setup_logging`` also switches off what LogRecords would collect and the JSON never
   shows (caller file/line, thread and process names), which saves ~1.5 µs per call.
2. ``queue`` — a bounded queue (``queue_size``) that drops DEBUG/INFO first and never
   blocks; a WARNING+ record is dropped only when the queue holds nothing else.
3. ``writer`` — a writer thread takes batches, formats them (``format``: JSON via
   python-json-logger's orjson formatter), masks secrets (``redaction``) and writes to
   stderr — which Railway collects — and to ``log_file`` when set. Logged exceptions are formatted
   here too (``stack``), not on the caller's thread. The writer times its writes
   (``csvbot_log_write_duration_seconds``); records and drops by level and the queue depth are
   counted by the queue and read at scrape time, so they keep moving when the writer is stuck.
4. ``signals`` — flush on SIGTERM/SIGINT for processes without an asyncio loop
   (:func:`install_signal_flush`); an ``atexit`` hook flushes at every normal exit. An asyncio
   service handles its signals with ``loop.add_signal_handler`` and calls ``runtime.stop()``
   as the last step of its own shutdown.

The stock ``QueueHandler``/``QueueListener`` pair is not used: it formats on the caller's thread,
drops ``exc_info``, grows without bound behind a slow sink and loses its tail without an explicit
``stop()`` (see ``bench/logging_bench.py`` for the numbers).

Every stdlib logger — aiogram, asyncpg, httpx, taskiq — propagates to the root logger and so takes
the same path. :data:`NOISY_LOGGERS` are raised to WARNING because at INFO they write one line per
routine event that csvbot already records better (metrics and its own per-update/per-job lines),
and some of those lines carry URLs; set a logger's level after ``setup_logging`` to see them.
"""

from __future__ import annotations

import atexit
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from telemetry.logging.capture import LogEntry, QueueingHandler
from telemetry.logging.format import JsonLineFormatter
from telemetry.logging.queue import BoundedLogQueue
from telemetry.logging.redaction import default_redactor, register_secret
from telemetry.logging.signals import chain_flush_on_signals
from telemetry.logging.writer import FileSink, LogWriter, Sink, StreamSink
from telemetry.metrics import Metrics

__all__ = [
    "EXIT_FLUSH_SECONDS",
    "NOISY_LOGGERS",
    "LoggingRuntime",
    "flush_logging",
    "install_signal_flush",
    "register_secret",
    "setup_logging",
    "shutdown_logging",
]

#: Time allowed to write what is queued when the process stops. 2 s: a few thousand lines even on
#: a slow disk, and well inside the 10 s a container gets between SIGTERM and SIGKILL — the rest
#: is for closing the database pool and in-flight jobs.
EXIT_FLUSH_SECONDS = 2.0

#: Library loggers that are chatty at INFO: the bot's per-update line (aiogram.event), taskiq's
#: per-task line, every HTTP request (httpx — Supabase calls, with their URLs) and HTTP/2 and
#: connection-level detail (httpcore, hpack), aiohttp's access log.
NOISY_LOGGERS: tuple[str, ...] = (
    "aiogram.event",
    "taskiq.receiver.receiver",
    "httpx",
    "httpcore",
    "hpack",
    "aiohttp.access",
)


#: What every LogRecord would otherwise collect on the caller's thread and csvbot's JSON never
#: writes: the caller's file/line/function (a frame walk, ~0.9 µs per call), thread, process and
#: process names (~0.6 µs). These are logging's documented switches for exactly this (Logging
#: HOWTO, "Optimization"); ``setup_logging`` turns them off and ``stop()`` restores them.
#: The price: ``stack_info=True`` is ignored (logged exceptions keep their full stack).
_RECORD_EXTRAS_OFF: dict[str, object] = {
    "_srcfile": None,
    "logThreads": False,
    "logProcesses": False,
    "logMultiprocessing": False,
    "logAsyncioTasks": False,  # Python 3.12+
}


@dataclass
class _RootState:
    """What ``setup_logging`` changed in the logging module, to put back on ``stop``."""

    handlers: list[logging.Handler]
    level: int
    logger_levels: dict[str, int] = field(default_factory=dict)
    switches: dict[str, object] = field(default_factory=dict)

    @classmethod
    def save(cls, root: logging.Logger, names: Iterable[str]) -> _RootState:
        levels = {name: logging.getLogger(name).level for name in names}
        switches = {name: getattr(logging, name) for name in _RECORD_EXTRAS_OFF if hasattr(logging, name)}
        return cls(list(root.handlers), root.level, levels, switches)

    def restore(self, root: logging.Logger) -> None:
        # The saved handlers in their order, then any that someone added while we ran.
        root.handlers = self.handlers + [h for h in root.handlers if h not in self.handlers]
        root.setLevel(self.level)
        for name, level in self.logger_levels.items():
            logging.getLogger(name).setLevel(level)
        for name, value in self.switches.items():
            setattr(logging, name, value)


class LoggingRuntime:
    """Handle on the running logging path. Made by :func:`setup_logging`."""

    def __init__(self, handler: QueueingHandler, writer: LogWriter, saved: _RootState) -> None:
        self.handler = handler
        self.writer = writer
        self._saved = saved
        self._stopped = False

    @property
    def queue_capacity(self) -> int:
        return self.handler.queue.capacity

    @property
    def queue_depth(self) -> int:
        """Records waiting to be written."""
        return len(self.handler.queue)

    @property
    def dropped(self) -> Mapping[str, int]:
        """Records dropped by the full queue since set-up, by level."""
        return self.handler.queue.dropped_total

    def flush(self, timeout: float = EXIT_FLUSH_SECONDS) -> bool:
        """Wait until every record logged so far is written; False if ``timeout`` ran out."""
        return self.writer.flush(timeout)

    def stop(self, timeout: float = EXIT_FLUSH_SECONDS) -> bool:
        """Detach from the root logger, write what is queued (within ``timeout``), close the file.

        Idempotent. True when every accepted record was written. The root logger gets back the
        handlers and level it had before ``setup_logging``.
        """
        with _STATE.lock:
            if self._stopped:
                return len(self.handler.queue) == 0
            self._stopped = True
            if _STATE.runtime is self:
                _STATE.runtime = None
                root = logging.getLogger()
                root.removeHandler(self.handler)
                self._saved.restore(root)
        return self.writer.stop(timeout)

    def _retire(self, timeout: float) -> None:
        """Stop after a newer runtime took over the root logger (which it must not touch)."""
        with _STATE.lock:
            self._stopped = True
        self.writer.stop(timeout)


@dataclass
class _ProcessState:
    """The one logging set-up of this process (logging itself is process-wide)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    runtime: LoggingRuntime | None = None
    atexit_registered: bool = False


# Empty at import: nothing is started or registered until setup_logging is called.
_STATE = _ProcessState()


def setup_logging(
    *,
    service_name: str,
    level: str = "INFO",
    log_file: Path | None = None,
    queue_size: int = 10_000,
    metrics: Metrics | None = None,
    stream: TextIO | None = None,
) -> LoggingRuntime:
    """Route every logger through the JSON queue path; returns the handle to flush and stop it.

    Idempotent: calling it again replaces the running set-up (the old one is flushed and stopped)
    so that there is always exactly one. The root logger's previous handlers are removed — JSON
    lines on stderr are the only output — and restored by ``stop()``.

    ``stream`` defaults to the ``sys.stderr`` of the moment of the call. ``level`` is a logging
    level name (``DEBUG`` … ``CRITICAL``, any case).

    A forked child process (``multiprocessing``, taskiq's worker processes) inherits the handler
    but not the writer thread: call ``setup_logging`` again in the child, first thing.
    """
    numeric_level = _parse_level(level)
    queue: BoundedLogQueue[LogEntry] = BoundedLogQueue(queue_size)
    sinks: list[Sink] = [StreamSink(stream if stream is not None else sys.stderr)]
    if log_file is not None:
        sinks.append(FileSink(log_file))
    writer = LogWriter(queue, JsonLineFormatter(service_name), default_redactor(), sinks, metrics)
    handler = QueueingHandler(queue)
    writer.start()

    root = logging.getLogger()
    with _STATE.lock:
        previous = _STATE.runtime
        saved = previous._saved if previous is not None else _RootState.save(root, NOISY_LOGGERS)
        runtime = LoggingRuntime(handler, writer, saved)
        # One assignment, so that no record falls between the old handler and the new one.
        root.handlers = [handler]
        root.setLevel(numeric_level)
        for name in NOISY_LOGGERS:
            logging.getLogger(name).setLevel(max(logging.WARNING, numeric_level))
        for name in saved.switches:
            setattr(logging, name, _RECORD_EXTRAS_OFF[name])
        _STATE.runtime = runtime
        if not _STATE.atexit_registered:
            atexit.register(_stop_at_exit)
            _STATE.atexit_registered = True
    if previous is not None:
        previous._retire(EXIT_FLUSH_SECONDS)
    return runtime


def flush_logging(timeout: float = EXIT_FLUSH_SECONDS) -> bool:
    """Flush the running set-up, if any; True when nothing is left queued."""
    runtime = _STATE.runtime
    return runtime.flush(timeout) if runtime is not None else True


def shutdown_logging(timeout: float = EXIT_FLUSH_SECONDS) -> bool:
    """Stop the running set-up, if any (see :meth:`LoggingRuntime.stop`)."""
    runtime = _STATE.runtime
    return runtime.stop(timeout) if runtime is not None else True


def install_signal_flush(
    signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    *,
    timeout: float = EXIT_FLUSH_SECONDS,
) -> Callable[[], None]:
    """For processes without an asyncio loop: flush logs on ``signals``, then chain the handler
    that was there before (details and the asyncio alternative: ``telemetry/logging/signals.py``).

    Call from the main thread. Returns a function that restores the previous handlers.
    """
    return chain_flush_on_signals(lambda: flush_logging(timeout), signals)


def _stop_at_exit() -> None:
    shutdown_logging(EXIT_FLUSH_SECONDS)


def _parse_level(level: str) -> int:
    levels = logging.getLevelNamesMapping()
    numeric = levels.get(level.strip().upper())
    if numeric is None or level.strip().upper() in {"NOTSET", "WARN", "FATAL"}:
        allowed = "DEBUG, INFO, WARNING, ERROR, CRITICAL"
        raise ValueError(f"log level must be one of {allowed}, not {level!r}")
    return numeric
