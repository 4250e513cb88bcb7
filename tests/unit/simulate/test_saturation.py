"""What saturated first: pressures on one scale, and metrics merged from several processes."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from simulate.saturation import DRIVER, describe, pressures
from simulate.separate import ScrapedRegistry
from telemetry import slo


def test_the_busiest_candidate_comes_first_and_each_is_use_over_capacity() -> None:
    result = pressures(
        {"bot": 0.95, "bot children": 1.0, DRIVER: 0.2},
        pool_share=0.5,
        pool_size=2,
        db_wait_p95=slo.POOL_WAIT_P95_MAX_SECONDS * 0.25,
        loop_lag_p99=slo.EVENT_LOOP_LAG_P99_WARN_SECONDS * 2,
        host_load=0.5,
    )
    assert next(iter(result)) == "event loop (lag p99 / threshold)"
    assert result["CPU of bot (cores / 1)"] == 0.95
    assert result["CPU of bot children (cores / pool size 2)"] == 0.5
    assert result["Telegram side (users + emulator process CPU, cores / 1)"] == 0.2
    assert result["database pool (waits p95 / threshold)"] == 0.25
    cores = os.cpu_count() or 1
    assert result[f"host run queue (1-min load average / {cores} cores)"] == 0.5 / cores
    assert list(result.values()) == sorted(result.values(), reverse=True)
    assert describe(result, 1).startswith("event loop (lag p99 / threshold): 2.00")


def _exposition(jobs: float, busy: float) -> str:
    registry = CollectorRegistry()
    Counter("csvbot_jobs", "jobs", ["outcome"], registry=registry).labels("ok").inc(jobs)
    Gauge("csvbot_csv_pool_busy", "busy", registry=registry).set(busy)
    return generate_latest(registry).decode()


def test_families_of_several_processes_are_merged_by_name() -> None:
    merged = ScrapedRegistry.merge([_exposition(3, 1), _exposition(4, 2)])
    assert merged.get_sample_value("csvbot_jobs_total", {"outcome": "ok"}) == 7
    assert merged.get_sample_value("csvbot_csv_pool_busy") == 3
    assert merged.get_sample_value("csvbot_missing") is None
    assert [f.name for f in merged.collect()].count("csvbot_jobs") == 1
