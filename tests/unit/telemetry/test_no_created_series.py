"""No ``*_created`` series: nothing reads them, and they doubled the counters' series."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from telemetry.metrics import Metrics


def test_the_exposition_has_no_created_series() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.jobs.labels("ok").inc()
    metrics.job_queue_wait.observe(1.0)
    text = generate_latest(registry).decode()
    assert "csvbot_jobs_total" in text and "csvbot_log_records_total" in text
    created = sorted({line.split("{")[0] for line in text.splitlines() if "_created" in line.split(" ")[0]})
    assert created == [], f"series nobody reads: {created}"
