"""The logging path's metrics keep moving while the log writer is stuck in a sink.

The drop alerts read ``csvbot_log_records_dropped_total{level}`` (any WARNING+ drop) and its ratio to
``csvbot_log_records_total{level}`` (DEBUG/INFO); the dashboards show ``csvbot_log_queue_depth``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from prometheus_client import CollectorRegistry

from telemetry.metrics import Metrics

from .logging_support import GatedStream, StartLogging

log = logging.getLogger("csvbot.test.logging.metrics")


def sample(registry: CollectorRegistry, name: str, level: str | None = None) -> float | None:
    return registry.get_sample_value(name, {"level": level} if level else {})


def test_drops_records_and_depth_move_while_the_writer_is_blocked_in_a_sink(
    start_logging: StartLogging, registry: CollectorRegistry
) -> None:
    stream = GatedStream()
    runtime = start_logging(stream=stream, queue_size=5, metrics=Metrics(registry, process_metrics=False))
    log.info("the writer takes this one and blocks writing it")
    assert stream.entered.wait(5)
    for i in range(5):
        log.warning("fills the queue %d", i)
    for i in range(3):
        log.error("no room %d", i)  # every queued record is WARNING+: dropped
    for i in range(4):
        log.info("no room either %d", i)

    # The writer is still inside write(): everything below was counted without it.
    assert not stream.gate.is_set() and runtime.writer._thread.is_alive()
    assert sample(registry, "csvbot_log_queue_depth") == 5
    assert sample(registry, "csvbot_log_records_dropped_total", "error") == 3
    assert sample(registry, "csvbot_log_records_dropped_total", "info") == 4
    assert sample(registry, "csvbot_log_records_dropped_total", "warning") == 0
    assert sample(registry, "csvbot_log_records_total", "warning") == 5
    assert sample(registry, "csvbot_log_records_total", "error") == 3
    assert sample(registry, "csvbot_log_records_total", "info") == 5

    stream.gate.set()
    assert runtime.flush(10.0)
    assert sample(registry, "csvbot_log_queue_depth") == 0
    assert sample(registry, "csvbot_log_records_total", "info") == 5, "written records are not counted twice"
    assert sample(registry, "csvbot_log_records_dropped_total", "error") == 3


def test_the_counters_never_go_back_when_logging_is_set_up_again(
    start_logging: StartLogging, registry: CollectorRegistry, tmp_path: Path
) -> None:
    metrics = Metrics(registry, process_metrics=False)
    start_logging(metrics=metrics, log_file=tmp_path / "first.log")
    for i in range(3):
        log.info("first %d", i)
    runtime = start_logging(metrics=metrics, log_file=tmp_path / "second.log")
    log.info("second")
    assert runtime.stop(5.0)
    assert sample(registry, "csvbot_log_records_total", "info") == 4
    assert sample(registry, "csvbot_log_records_dropped_total", "info") == 0


def test_every_level_is_exposed_before_anything_is_logged(registry: CollectorRegistry) -> None:
    Metrics(registry, process_metrics=False)
    for name in ("csvbot_log_records_total", "csvbot_log_records_dropped_total"):
        for level in ("debug", "info", "warning", "error", "critical"):
            assert sample(registry, name, level) == 0
