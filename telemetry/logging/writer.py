"""The writer thread: takes batches off the log queue, formats, redacts, writes, reports.

Per batch (up to ``max_batch`` records) it formats every record to a JSON line, joins the lines,
runs the redactor once over the joined text, and writes it with one ``write`` + ``flush`` per sink.
Batching is what makes the total cost per record lower than a synchronous handler's: one regex
pass, one system call and one histogram observation per batch instead of per record. The record
and drop counters and the queue depth are not this thread's job: the catalogue reads them from the
queue at scrape time, so they keep moving while this thread is blocked in a sink.

The writer shares the GIL with the event loop, so it keeps its turns short and far apart:

* once woken, it sleeps ``linger`` (0.5 ms) before taking a batch, so a steady stream of records
  is written in small batches (about 10 at 20,000 records/s) rather than one wake-up per record;
* batches are capped at 256 records — under 1 ms of formatting for ordinary records. A logged
  exception costs 10–20 times more (its stack is formatted here), so after each exception the
  writer checks the time: past ``gil_slice`` (1 ms) of formatting it sleeps ``linger`` before
  going on with the batch, and an error storm cannot hold the GIL for a whole batch;
* between two batches it sleeps ``linger`` again, GIL released, unless half the queue is full
  (then dropping records is the bigger risk and it writes flat out).

Measured in ``bench/logging_bench.py``: event-loop lag, not just CPU.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Protocol, TextIO

from telemetry.logging.capture import LogEntry
from telemetry.logging.format import JsonLineFormatter
from telemetry.logging.queue import BoundedLogQueue
from telemetry.logging.redaction import Redactor
from telemetry.metrics import Metrics

__all__ = ["FileSink", "LogWriter", "Sink", "StreamSink"]


class Sink(Protocol):
    """Somewhere finished, redacted log text goes."""

    name: str

    def write(self, text: str) -> None: ...

    def close(self) -> None: ...


class StreamSink:
    """A text stream such as ``sys.stderr`` (Railway collects stderr). Never closed by us."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.name = getattr(stream, "name", type(stream).__name__)

    def write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def close(self) -> None:
        """The stream belongs to the process, not to logging."""


class FileSink:
    """An append-mode UTF-8 file, flushed after every batch so a crash loses no written batch."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.name = str(path)
        self._file = path.open("a", encoding="utf-8")

    def write(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class LogWriter:
    """Owns the writer thread. ``start`` once, ``flush`` any time, ``stop`` once."""

    def __init__(
        self,
        queue: BoundedLogQueue[LogEntry],
        formatter: JsonLineFormatter,
        redactor: Redactor,
        sinks: list[Sink],
        metrics: Metrics | None = None,
        *,
        max_batch: int = 256,
        linger: float = 0.0005,
        gil_slice: float = 0.001,
    ) -> None:
        self.queue = queue
        self._formatter = formatter
        self._redactor = redactor
        self._sinks = sinks
        self._failures_reported: set[str] = set()
        self._max_batch = max_batch
        self._linger = linger
        self._gil_slice = gil_slice
        # Past half a queue, write flat out: dropping records would be worse than a slower loop.
        self._backlog = queue.capacity // 2
        self._stopping = False
        self._metrics = metrics
        if metrics is not None:
            # Records, drops and depth are read from the queue at scrape time, not published by
            # this thread: they must keep moving while it is blocked in a sink.
            metrics.log_record_counts.attach(queue)
            metrics.log_queue_depth.set_function(queue.__len__)
            metrics.log_queue_capacity.set(queue.capacity)
        self._thread = threading.Thread(target=self._run, name="csvbot-log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far is written; False if ``timeout`` ran out first."""
        return self.queue.wait_until_drained(timeout)

    def stop(self, timeout: float) -> bool:
        """Write what is queued (within ``timeout``), end the thread, close the file.

        The thread is a daemon: if a sink hangs past the timeout, the process can still exit.
        """
        self._stopping = True
        self.queue.wake()
        finished = self.join(timeout)
        if self._metrics is not None:
            # The counts stay in the counters; a later set-up adds to them.
            self._metrics.log_record_counts.detach(self.queue)
        if not finished:
            return False  # the thread closes the sinks itself once the hung write returns
        return len(self.queue) == 0

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end (after :meth:`stop`); True once it has closed the sinks."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._write_until_stopped()
        finally:
            # Closed here, not in stop(): a stop() that gave up behind a hung sink must still leave
            # no file open once the write returns.
            for sink in self._sinks:
                try:
                    sink.close()
                except Exception as error:
                    self._report_failure(f"closing {sink.name}", error)

    def _write_until_stopped(self) -> None:
        while True:
            batch = self.queue.take(self._max_batch)
            if batch:
                try:
                    self._write_batch(batch)
                except Exception as error:
                    # A bug here must not end the thread: logging would stop without a word.
                    self._report_failure("the log writer", error)
                finally:
                    self.queue.batch_done()
                if not self._stopping and len(self.queue) < self._backlog:
                    # Pause between batches, GIL released, even with more queued: otherwise the
                    # writer re-takes the GIL right after each write() and the event loop, which
                    # lost that race, waits up to the 5 ms switch interval for its next turn.
                    time.sleep(self._linger)
                continue
            if self._stopping:
                return
            self.queue.wait_for_entries(timeout=1.0)
            if not self._stopping:
                time.sleep(self._linger)

    def _write_batch(self, batch: list[LogEntry]) -> None:
        started = time.perf_counter()
        format_entry = self._formatter.format_entry
        lines: list[str] = []
        slice_started = started
        for entry in batch:
            try:
                lines.append(format_entry(entry))
            except Exception as error:
                lines.append(self._formatter.format_failure(entry, error))
            if entry.exception is not None:
                now = time.perf_counter()
                if now - slice_started > self._gil_slice and len(self.queue) < self._backlog:
                    time.sleep(self._linger)  # the event loop's turn (see module docstring)
                    slice_started = time.perf_counter()
        text = self._redactor.redact("\n".join(lines)) + "\n"
        for sink in self._sinks:
            try:
                sink.write(text)
            except Exception as error:
                self._report_failure(f"writing to {sink.name}", error)
        if self._metrics is not None:
            self._metrics.log_write_duration.observe(time.perf_counter() - started)

    def _report_failure(self, where: str, error: Exception) -> None:
        """Say once per place that it fails — on the real stderr, the last place left to say it."""
        if where in self._failures_reported:
            return
        self._failures_reported.add(where)
        fallback = sys.__stderr__
        if fallback is not None:
            try:
                fallback.write(f"csvbot logging: {where} failed: {error!r}\n")
                fallback.flush()
            except Exception:  # noqa: S110 - nowhere left to report to
                pass
