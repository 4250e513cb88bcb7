"""Shared by the logging tests: sinks that are slow or stuck, and reading the written lines."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telemetry.logging import LoggingRuntime


class SlowStream(io.StringIO):
    """A sink that takes ``per_line`` seconds for every line it is given."""

    def __init__(self, per_line: float) -> None:
        super().__init__()
        self.per_line = per_line

    def write(self, text: str) -> int:
        time.sleep(self.per_line * text.count("\n"))
        return super().write(text)


class GatedStream(io.StringIO):
    """A sink whose writes wait for ``gate``: holds the writer so records stay queued."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        self.gate.wait(10)
        return super().write(text)


StartLogging = Callable[..., LoggingRuntime]


def lines_of(runtime: LoggingRuntime, path: Path) -> list[dict[str, Any]]:
    assert runtime.flush(10.0)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
