"""Queued records reach the file when the process is stopped: by SIGTERM, or by simply exiting.

The process cases run a small child Python (about half a second each): only a real process can
receive SIGTERM and run its exit hooks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import FrameType

import pytest

from telemetry.logging import install_signal_flush

ROOT = Path(__file__).resolve().parents[3]
RECORDS = 1000

#: The child logs RECORDS records into a sink that takes 0.5 ms per line, so that most of them are
#: still queued when it prints how many — then it either waits to be killed or exits at once.
CHILD = textwrap.dedent(
    """
    import logging, sys, time
    from pathlib import Path
    from telemetry.logging import install_signal_flush, setup_logging

    class SlowStream:
        def write(self, text):
            time.sleep(0.0005 * text.count("\\n"))
        def flush(self):
            pass

    runtime = setup_logging(service_name="csvbot-test", log_file=Path(sys.argv[1]), stream=SlowStream())
    if sys.argv[2] == "wait-for-sigterm":
        install_signal_flush(timeout=10.0)
    log = logging.getLogger("child")
    for i in range({records}):
        log.info("record %d", i)
    print(runtime.queue_depth, flush=True)
    if sys.argv[2] == "wait-for-sigterm":
        time.sleep(60)
    """
).format(records=RECORDS)


def run_child(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "child.log"), mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    with child.stdout:  # the child prints one line; the pipe is not left open for the GC
        queued_when_done_logging = int(child.stdout.readline())
    return child, queued_when_done_logging


def messages(path: Path) -> list[str]:
    return [json.loads(line)["message"] for line in path.read_text().splitlines()]


def test_sigterm_writes_every_queued_record_before_the_process_dies(tmp_path: Path) -> None:
    child, queued = run_child(tmp_path, "wait-for-sigterm")
    assert queued > 0, "the test needs records still queued when SIGTERM arrives"
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == -signal.SIGTERM, "the default SIGTERM ending is kept"
    assert messages(tmp_path / "child.log") == [f"record {i}" for i in range(RECORDS)]


def test_exiting_without_stop_still_writes_every_queued_record(tmp_path: Path) -> None:
    child, queued = run_child(tmp_path, "exit")
    assert queued > 0, "the test needs records still queued at exit"
    assert child.wait(timeout=30) == 0
    assert messages(tmp_path / "child.log") == [f"record {i}" for i in range(RECORDS)]


@pytest.fixture
def sigusr1_handler() -> object:
    previous = signal.getsignal(signal.SIGUSR1)
    yield previous
    signal.signal(signal.SIGUSR1, previous)


def test_the_signal_flush_runs_the_previous_handler_after_flushing(
    sigusr1_handler: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def previous(signum: int, frame: FrameType | None) -> None:
        calls.append(f"previous {signum}")

    monkeypatch.setattr("telemetry.logging.flush_logging", lambda timeout: calls.append("flush"))
    signal.signal(signal.SIGUSR1, previous)
    restore = install_signal_flush([signal.SIGUSR1])
    install_signal_flush([signal.SIGUSR1])  # twice: still one flush per signal
    os.kill(os.getpid(), signal.SIGUSR1)
    assert calls == ["flush", f"previous {signal.SIGUSR1}"]
    restore()
    assert signal.getsignal(signal.SIGUSR1) is previous


def test_an_ignored_signal_stays_ignored_after_the_flush(
    sigusr1_handler: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[bool] = []
    monkeypatch.setattr("telemetry.logging.flush_logging", lambda timeout: flushed.append(True))
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    install_signal_flush([signal.SIGUSR1])
    os.kill(os.getpid(), signal.SIGUSR1)  # would end the process if it were not ignored
    assert flushed == [True]
