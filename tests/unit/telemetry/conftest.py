"""The ``start_logging`` fixture: csvbot logging started for one test, the root logger restored after."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telemetry.logging import NOISY_LOGGERS, LoggingRuntime, setup_logging, shutdown_logging

from .logging_support import StartLogging


@pytest.fixture
def start_logging(tmp_path: Path) -> Iterator[StartLogging]:
    """Starts csvbot logging (stream: a StringIO unless given; file: tmp_path/csvbot.log).

    Afterwards it stops whatever is running and checks that the root logger, the noisy library
    loggers and logging's module switches are back as they were.
    """
    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.logThreads, logging._srcfile)
    noisy_before = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}

    def start(**kwargs: Any) -> LoggingRuntime:
        kwargs.setdefault("service_name", "csvbot-test")
        kwargs.setdefault("stream", io.StringIO())
        kwargs.setdefault("log_file", tmp_path / "csvbot.log")
        kwargs.setdefault("level", "DEBUG")
        return setup_logging(**kwargs)

    try:
        yield start
    finally:
        shutdown_logging(timeout=5.0)
        after = (set(root.handlers), root.level, logging.logThreads, logging._srcfile)
        root.handlers[:], root.level = before[0], before[1]
        assert after == (set(before[0]), *before[1:]), "stop() did not restore the logging module"
        assert {name: logging.getLogger(name).level for name in NOISY_LOGGERS} == noisy_before
