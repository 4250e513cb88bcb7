"""CSV work in child processes, so a 20 MB file never holds the event loop's GIL.

``process_csv`` is pure Python and CPU-bound: in a thread it competes with the event loop for the
GIL and every update waits behind it. Here each job runs in a child process. The pool has one
*slot* per job that may run at once (``WORKER_CONCURRENCY``); each slot is a
``ProcessPoolExecutor`` of exactly one process, so a slot's process can be killed and replaced
without touching the jobs of the other slots.

Children come from the ``forkserver`` context (``spawn`` where there is none), never ``fork``:
the parent has threads (log writer, metrics server, executor threads) whose locks a forked child
would inherit held.

What a job keeps from the thread path:

* **progress** — the child writes the fraction done into its slot's shared-memory cell; the job's
  task on the event loop reads it every ``PROGRESS_POLL_SECONDS`` and calls its callback when it
  moved. No lock, no queue: a child killed mid-write leaves nothing held (a killed child holding
  a shared queue's lock would block every later child and the parent).
* **cancellation** — a cancelled job (shutdown, a cancelled task) sets its slot's shared cancel
  flag; the child checks it at every progress tick (at most every 0.25 s during the streaming
  pass) and stops with :class:`JobCancelled`. A child that has not stopped ``CANCEL_GRACE_SECONDS``
  later (it is in a step without ticks, such as the encoding scan) is killed and its slot gets a
  fresh process. Either way the child's work stops; its partial outputs are in the job's
  temporary folder, which the runner removes.
* **the deadline** — past ``JOB_PROCESS_TIMEOUT_SECONDS`` the job is stopped the same way and
  fails with :class:`ProcessingTimeoutError`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
from collections.abc import AsyncIterator, Callable
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Protocol

from service.config import Settings
from service.csvkit import CsvLimits, CsvResult, process_csv
from service.errors import CsvbotError, ProcessingTimeoutError
from telemetry.metrics import Metrics

log = logging.getLogger(__name__)

#: How long a cancelled child may take to notice its flag before it is killed: several progress
#: ticks (0.25 s apart), so only a child stuck in a step without ticks is killed.
CANCEL_GRACE_SECONDS = 2.0

Progress = Callable[[float], None]
#: The child ticks at most every 0.25 s; reading its cell as often costs nothing.
PROGRESS_POLL_SECONDS = 0.25


class CsvExecutor(Protocol):
    async def run(
        self, input_path: Path, out_dir: Path, limits: CsvLimits, progress: Progress, *, deadline: float
    ) -> CsvResult: ...


class ThreadCsv:
    """The old path: a thread of this process. It shares the GIL with the event loop, and a job
    past its deadline fails on time but its thread cannot be stopped and finishes the file."""

    async def run(
        self, input_path: Path, out_dir: Path, limits: CsvLimits, progress: Progress, *, deadline: float
    ) -> CsvResult:
        work = asyncio.to_thread(process_csv, input_path, out_dir, limits, progress)
        try:
            return await asyncio.wait_for(work, deadline)
        except TimeoutError:
            raise ProcessingTimeoutError(f"processing took longer than {deadline:.0f} s") from None


@contextlib.asynccontextmanager
async def open_csv_executor(settings: Settings, metrics: Metrics) -> AsyncIterator[CsvExecutor]:
    """The executor CSV_EXECUTOR names, sized by WORKER_CONCURRENCY; closed on exit."""
    if settings.csv_executor == "thread":
        yield ThreadCsv()
        return
    pool = CsvPool(settings.worker_concurrency, metrics)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.aclose()


class JobCancelled(Exception):
    """Raised in the child when the parent asked it to stop."""


# --- the child's side ------------------------------------------------------------------------

_child_cancel: Any = None
_child_progress: Any = None


#: Scheduling priority of a CSV child below its parent's: on a busy host the event loop, which
#: answers every user, gets the CPU before a batch job does (a job's seconds matter less). Not
#: SCHED_IDLE, though it kept the loop a little closer to idle (bench/csv_pool_bench.py): with a
#: normal-priority process spinning on each core, an idle-class child's 20 MB job crawled past
#: its 120 s deadline where one at +10 took 8.5 s; and leaving SCHED_IDLE needs CAP_SYS_NICE,
#: which containers lack, so a starved child could not be lifted out of it.
CHILD_NICENESS = 10


def _child_init(cancel: Any, progress: Any) -> None:
    global _child_cancel, _child_progress
    _child_cancel, _child_progress = cancel, progress
    with contextlib.suppress(OSError, AttributeError):  # no os.nice on Windows
        os.nice(CHILD_NICENESS)


def _child_warm() -> None:
    """Runs once in a new child so its first job does not pay for the imports."""


def _child_run(input_path: Path, out_dir: Path, limits: CsvLimits) -> CsvResult | _Failure:
    cell, cancel = _child_progress, _child_cancel
    assert cell is not None and cancel is not None

    def progress(fraction: float) -> None:
        if cancel.value:
            raise JobCancelled
        cell.value = fraction

    try:
        return process_csv(input_path, out_dir, limits, progress)
    except CsvbotError as exc:
        return _Failure(exc)


class _Failure:
    """A typed error carried back whole: CsvbotError's keyword ``user_message`` (and attributes
    such as ConfigError's) do not survive plain exception pickling, which replays ``args`` only."""

    def __init__(self, exc: CsvbotError) -> None:
        self.cls, self.args, self.attrs = type(exc), exc.args, dict(exc.__dict__)

    def rebuild(self) -> CsvbotError:
        exc = self.cls.__new__(self.cls)
        exc.args = self.args
        exc.__dict__.update(self.attrs)
        return exc


# --- the parent's side -----------------------------------------------------------------------


def _context() -> BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # The fork server imports the CSV engine once; each child then starts in milliseconds.
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


class _Slot:
    """One child process, its cancel flag and its progress cell (shared memory, lock-free)."""

    def __init__(self, ctx: BaseContext) -> None:
        self._ctx = ctx
        self.cancel = ctx.RawValue("b", 0)
        self.progress = ctx.RawValue("d", -1.0)
        self.executor = self._new_executor()

    def _new_executor(self) -> concurrent.futures.ProcessPoolExecutor:
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._ctx,
            initializer=_child_init,
            initargs=(self.cancel, self.progress),
        )
        executor.submit(_child_warm)
        return executor

    def replace(self) -> None:
        """Kill the child (whatever it is doing) and start a fresh one for the next job."""
        old = self.executor
        # ProcessPoolExecutor has no public kill before Python 3.14; its process table is the
        # only handle on the child.
        for process in list(getattr(old, "_processes", {}).values()):
            process.kill()
        old.shutdown(wait=False, cancel_futures=True)
        self.cancel.value = 0
        self.executor = self._new_executor()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class CsvPool:
    """Runs ``process_csv`` in child processes; open with :meth:`start`, close with :meth:`aclose`."""

    def __init__(self, size: int, metrics: Metrics, *, cancel_grace: float = CANCEL_GRACE_SECONDS) -> None:
        self.size = size
        self.metrics = metrics
        self.cancel_grace = cancel_grace
        self._slots: list[_Slot] = []
        self._free: asyncio.Queue[_Slot] = asyncio.Queue()

    async def start(self) -> None:
        ctx = _context()
        # Starting children forks the fork server (or spawns): a thread keeps that off the loop.
        self._slots = await asyncio.to_thread(lambda: [_Slot(ctx) for _ in range(self.size)])
        for slot in self._slots:
            self._free.put_nowait(slot)
        self.metrics.csv_pool_size.set(self.size)

    async def aclose(self) -> None:
        slots, self._slots = self._slots, []

        def close_all() -> None:
            for slot in slots:
                slot.close()

        await asyncio.to_thread(close_all)
        self.metrics.csv_pool_size.set(0)

    async def run(
        self, input_path: Path, out_dir: Path, limits: CsvLimits, progress: Progress, *, deadline: float
    ) -> CsvResult:
        """``process_csv`` in a child; stops the child on cancellation or past ``deadline`` seconds."""
        slot = await self._free.get()
        self.metrics.csv_pool_busy.inc()
        watcher = None
        try:
            slot.cancel.value = 0
            slot.progress.value = -1.0
            future = asyncio.wrap_future(slot.executor.submit(_child_run, input_path, out_dir, limits))
            watcher = asyncio.get_running_loop().create_task(_watch(slot, progress, future))
            try:
                outcome = await asyncio.wait_for(asyncio.shield(future), deadline)
            except TimeoutError:
                await self._stop(slot, future, "deadline")
                raise ProcessingTimeoutError(f"processing took longer than {deadline:.0f} s") from None
            except asyncio.CancelledError:
                await self._stop(slot, future, "cancelled")
                raise
            except concurrent.futures.process.BrokenProcessPool:
                # The child died under the job (killed by the OS, out of memory): a fresh one for
                # the next job, and the error goes up as an internal failure of this attempt.
                slot.replace()
                self.metrics.csv_pool_restarts.labels("crashed").inc()
                raise
        finally:
            if watcher is not None:
                watcher.cancel()
            self.metrics.csv_pool_busy.dec()
            self._free.put_nowait(slot)
        if isinstance(outcome, _Failure):
            raise outcome.rebuild()
        progress(1.0)  # the last tick may have landed after the watcher's last look
        return outcome

    async def _stop(self, slot: _Slot, future: asyncio.Future[Any], reason: str) -> None:
        """Ask the child to stop; kill it if it has not within the grace period."""
        slot.cancel.value = 1
        try:
            await asyncio.wait({future}, timeout=self.cancel_grace)
        finally:
            if not future.done():
                # The killed child's future ends in BrokenProcessPool; nobody waits for it now.
                future.add_done_callback(lambda f: f.cancelled() or f.exception())
                slot.replace()
                self.metrics.csv_pool_restarts.labels(reason).inc()
                log.warning(
                    "CSV child process killed: it did not stop when asked",
                    extra={"event": "csv_child_killed", "reason": reason},
                )
            else:
                slot.cancel.value = 0
                log.info("CSV work stopped", extra={"event": "csv_child_stopped", "reason": reason})
            # The stopped job's answer (JobCancelled, a result) is no longer wanted.
            if future.done() and not future.cancelled():
                future.exception()


async def _watch(slot: _Slot, progress: Progress, future: asyncio.Future[Any]) -> None:
    """Hand the child's progress to ``progress`` on the loop while its job runs."""
    last = -1.0
    while not future.done():
        await asyncio.sleep(PROGRESS_POLL_SECONDS)
        value = slot.progress.value
        if value != last and 0.0 <= value < 1.0:
            last = value
            progress(value)
