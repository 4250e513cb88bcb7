"""Stages of the pass that overlap on threads: reading runs ahead, writing runs behind.

Most of the pass is polars calls, and polars releases the GIL while it computes. So while the
calling thread deduplicates one chunk, one thread can already read and parse the next blocks
(:class:`ReadAhead`), another profile the previous batch and a third write the one before
(:class:`WriteBehind`, twice). On two cores, in ``bench/csv_bench.py``, a 20 MB file took
0.97 s instead of 1.44 s run serially (1.48×), for 7 % less CPU; with the second core kept
busy by another process, 1.03 s instead of 1.23 s.

Both keep at most ``depth`` items in flight, so memory stays a few chunks whatever the file's
size, and both hand every error to the calling thread, raised where it would have been raised
without the thread. Each is a context manager: leaving it (an error, a cancelled job) stops its
thread and waits for it, so no thread outlives the pass or touches a closed file.
"""

from __future__ import annotations

import concurrent.futures
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()


class ReadAhead(Generic[T]):
    """Iterates ``items`` on a thread of its own, up to ``depth`` items ahead of the caller.

    ``items`` is only ever advanced on that thread, one step at a time, in order, so a
    generator that reads a file keeps its state there as it would in the caller.
    """

    def __init__(self, items: Iterator[T], *, depth: int, name: str) -> None:
        self._items = items
        self._depth = depth
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        self._in_flight: deque[concurrent.futures.Future[object]] = deque()
        self._done = False

    def _step(self) -> object:
        return next(self._items, _END)

    def _fill(self) -> None:
        while not self._done and len(self._in_flight) < self._depth:
            self._in_flight.append(self._executor.submit(self._step))

    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        self._fill()
        if not self._in_flight:
            raise StopIteration
        item = self._in_flight.popleft().result()  # the reader's error is raised here
        if item is _END:
            self._done = True
            self._in_flight.clear()  # the steps after the end return the end again
            raise StopIteration
        return item  # type: ignore[return-value]  # anything but _END is a T

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._done = True
        for future in self._in_flight:
            future.cancel()
        self._in_flight.clear()
        close = getattr(self._items, "close", None)
        if close is not None:  # a generator's cleanup runs on the thread that ran it
            self._executor.submit(close)
        self._executor.shutdown(wait=True)


class WriteBehind:
    """Runs the calls handed to :meth:`submit` on a thread of its own, in order, at most
    ``depth`` of them waiting; the first error is raised by the next :meth:`submit` or by
    :meth:`finish`, and nothing after it runs."""

    def __init__(self, *, depth: int, name: str) -> None:
        self._depth = depth
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        self._in_flight: deque[concurrent.futures.Future[None]] = deque()
        self._failed = False

    def submit(self, call: Callable[[], None]) -> None:
        while self._in_flight and (self._in_flight[0].done() or len(self._in_flight) >= self._depth):
            self._in_flight.popleft().result()
        self._in_flight.append(self._executor.submit(self._run, call))

    def _run(self, call: Callable[[], None]) -> None:
        if self._failed:
            return  # the calls queued behind a failed one are skipped; its error is raised
        try:
            call()
        except BaseException:
            self._failed = True
            raise

    def finish(self) -> None:
        """Wait for every call submitted; raise the first error."""
        while self._in_flight:
            self._in_flight.popleft().result()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for future in self._in_flight:
            future.cancel()
        self._in_flight.clear()
        self._executor.shutdown(wait=True)
