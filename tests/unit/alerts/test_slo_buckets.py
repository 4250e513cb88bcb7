"""Every latency threshold in telemetry/slo.py is a bucket boundary of the histogram measuring it."""

from __future__ import annotations

import pytest

from telemetry import slo


@pytest.mark.parametrize(("name", "threshold", "buckets"), slo.THRESHOLD_BUCKETS, ids=lambda v: str(v)[:40])
def test_threshold_is_a_bucket_boundary(name: str, threshold: float, buckets: tuple[float, ...]) -> None:
    """A ``le`` bucket can only count "faster than X" for an X it has."""
    assert threshold in buckets, f"{name}={threshold} is not a bucket of {buckets}"


def test_every_latency_threshold_and_slo_is_listed_for_the_bucket_check() -> None:
    """A new *_SECONDS threshold or LatencySlo cannot skip the check above."""
    listed = {name for name, _, _ in slo.THRESHOLD_BUCKETS}
    not_histogram_thresholds = {
        # Timings of periodic tasks and leases: nothing is bucketed against them.
        "EVENT_LOOP_LAG_INTERVAL_SECONDS",
        "WORKER_HEARTBEAT_INTERVAL_SECONDS",
        "WORKER_HEARTBEAT_STALE_SECONDS",
        "JOB_LEASE_SECONDS",
        # A bound on an optional lookup; it falls back, nothing alerts on it.
        "PREFS_LOOKUP_TIMEOUT_SECONDS",
        # Backoffs, staleness bounds of the sweeper, readiness probing and the worker's drain.
        "JOB_RETRY_BACKOFF_CAP_SECONDS",
        "JOB_QUEUED_STALE_SECONDS",
        "JOB_RECEIVED_STALE_SECONDS",
        "DELIVERY_BACKOFF_BASE_SECONDS",
        "DELIVERY_BACKOFF_CAP_SECONDS",
        "BROKER_BACKOFF_BASE_SECONDS",
        "BROKER_BACKOFF_CAP_SECONDS",
        "READINESS_CHECK_INTERVAL_SECONDS",
        "READINESS_PROBE_TIMEOUT_SECONDS",
        "WORKER_DRAIN_SECONDS",
        # A job's processing deadline: enforced by the CSV pool, not read off a histogram.
        "JOB_PROCESS_TIMEOUT_SECONDS",
        # The upload spool's and the jobs' outage bounds and retry ceiling: waits, not measured
        # latencies.
        "SPOOL_MAX_AGE_SECONDS",
        "JOB_OUTAGE_RIDE_OUT_SECONDS",
        # Ages of waiting jobs and results: gauges the reaper sets, not histograms.
        "JOB_STUCK_SECONDS",
        "RESULT_UNDELIVERED_SECONDS",
        "SPOOL_RETRY_CAP_SECONDS",
        "BUDGET_LEASE_SECONDS",
        "TUNING_COOLDOWN_SECONDS",
        "TUNING_QUIET_SECONDS",
        "TUNING_WINDOW_SECONDS",
    }
    for name, value in vars(slo).items():
        if name.isupper() and name.endswith("_SECONDS") and name not in not_histogram_thresholds:
            assert name in listed, f"{name} is not in slo.THRESHOLD_BUCKETS"
        if isinstance(value, slo.LatencySlo):
            assert name in listed, f"{name} is not in slo.THRESHOLD_BUCKETS"
