"""A blocking call on the event loop shows up in the lag histogram and is named in one log line."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from prometheus_client import CollectorRegistry

from telemetry.loop_lag import LoopLagMonitor
from telemetry.metrics import Metrics


def _blocking_parse_of_a_huge_file(seconds: float) -> None:
    time.sleep(seconds)  # stands for CPU work wrongly done on the loop


async def test_blocking_call_lands_in_the_lag_histogram_and_names_the_culprit(
    registry: CollectorRegistry, metrics: Metrics, caplog: pytest.LogCaptureFixture
) -> None:
    monitor = LoopLagMonitor(metrics, interval=0.02, log_threshold=0.1)
    monitor.start()
    await asyncio.sleep(0.1)  # a few quiet ticks first
    with caplog.at_level(logging.WARNING, logger="telemetry.loop_lag"):
        _blocking_parse_of_a_huge_file(0.4)
        await asyncio.sleep(0.1)
    await monitor.stop()

    slow = registry.get_sample_value("csvbot_event_loop_lag_seconds_bucket", {"le": "0.25"})
    total = registry.get_sample_value("csvbot_event_loop_lag_seconds_count")
    assert total is not None and slow is not None
    assert total - slow >= 1, "the 0.4 s block must be counted above the 0.25 s bucket"
    assert (registry.get_sample_value("csvbot_event_loop_lag_max_seconds") or 0) >= 0.3
    blocked = [r for r in caplog.records if getattr(r, "event", None) == "event_loop_blocked"]
    assert len(blocked) == 1, "one log line per episode"
    assert "_blocking_parse_of_a_huge_file" in blocked[0].getMessage()


async def test_idle_loop_reports_small_lag(registry: CollectorRegistry, metrics: Metrics) -> None:
    monitor = LoopLagMonitor(metrics, interval=0.02, log_threshold=0.1)
    monitor.start()
    await asyncio.sleep(0.3)
    await monitor.stop()
    count = registry.get_sample_value("csvbot_event_loop_lag_seconds_count") or 0
    under_100ms = registry.get_sample_value("csvbot_event_loop_lag_seconds_bucket", {"le": "0.1"})
    assert count >= 5
    assert under_100ms == count
    assert monitor.blocked_reports == 0
