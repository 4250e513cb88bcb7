"""Flush queued log records when the process is told to stop by a signal.

For processes **without** an asyncio loop owning their signals (scripts, the migration command,
a worker whose framework does not handle signals): :func:`chain_flush_on_signals` installs a
handler that flushes the log queue (bounded in time) and then does what the previous handler
would have done:

* a Python callable (``signal.default_int_handler`` → ``KeyboardInterrupt``, a framework's
  graceful-shutdown handler) is called with the same arguments — logging keeps running, so the
  shutdown path can still log;
* ``SIG_DFL`` — the default for SIGTERM — is restored and the signal re-sent, so the process ends
  exactly as it would have (killed by SIGTERM, exit status -15), only with its logs on disk;
* ``SIG_IGN`` stays ignored.

**asyncio services** should not use this: ``loop.add_signal_handler`` replaces the process-level
handler (and a handler installed after it would run inside the signal context, outside the loop).
They register their own shutdown with the loop and call ``LoggingRuntime.stop()`` last, after the
loop has finished::

    loop.add_signal_handler(signal.SIGTERM, stop_event.set)
    ...
    finally:
        logging_runtime.stop(timeout=2.0)

The ``atexit`` hook of ``setup_logging`` covers every normal interpreter exit either way.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable
from types import FrameType

__all__ = ["chain_flush_on_signals"]

_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def chain_flush_on_signals(
    flush: Callable[[], object], signals: Iterable[signal.Signals]
) -> Callable[[], None]:
    """Run ``flush()`` first on each of ``signals``, then the handler that was there before.

    Must be called from the main thread (a ``signal`` module rule). Returns a function that puts
    the previous handlers back. Installing twice does not flush twice: a signal whose handler is
    already a flush-chaining one is left alone.
    """
    previous: dict[signal.Signals, _Handler] = {}
    for signum in signals:
        current = signal.getsignal(signum)
        if getattr(current, "_csvbot_flushes_logs", False):
            continue
        previous[signum] = current
        signal.signal(signum, _flushing_handler(flush, current))

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def _flushing_handler(
    flush: Callable[[], object], previous: _Handler
) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        try:
            flush()
        finally:
            _run_previous(previous, signum, frame)

    handler._csvbot_flushes_logs = True  # type: ignore[attr-defined]
    return handler


def _run_previous(previous: _Handler, signum: int, frame: FrameType | None) -> None:
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:
        # SIG_DFL, or None (a handler installed outside Python): end the way the default would.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
