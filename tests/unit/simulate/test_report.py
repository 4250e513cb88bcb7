"""The simulation report: percentiles, Prometheus-style quantiles, verdict and tuning hints."""

from __future__ import annotations

import math

from simulate.report import OpStats, Report, histogram_quantile, judge, percentile


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile([], 0.5) is None


def test_histogram_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    buckets = [(0.1, 50.0), (1.0, 100.0), (math.inf, 100.0)]
    assert histogram_quantile(0.5, buckets) == 0.1
    assert math.isclose(histogram_quantile(0.75, buckets) or 0, 0.55)
    assert histogram_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]) is None


def _report(*, success: float, pool_wait: float, database: str, limit: int = 4, ceiling: int = 10) -> Report:
    op = OpStats(count=100, success_rate=success, p50=0.1, p95=0.5, p99=0.9, outcomes={"ok": 100})
    return Report(
        scenario="t",
        settings={"database": database, "session_limit": limit, "session_limit_max": ceiling},
        ops={"command": op, "upload_accepted": op, "upload_result": op},
        overall_success_rate=success,
        arrivals=100,
        uploads=10,
        jobs_queued=1,
        results_per_job={"a": 1},
        storage={},
        storage_timeouts=0,
        storage_retries=0,
        pool_wait_p95=pool_wait,
        pool_acquire_timeouts=0,
        loop_lag_p99=0.01,
        loop_lag_max=0.02,
        log_records_dropped=0,
    )


def test_a_healthy_run_passes_without_hints() -> None:
    report = _report(success=0.99, pool_wait=0.01, database="postgres")
    judge(report)
    assert report.verdict == "pass" and report.hints == []


def test_pool_waits_on_postgres_advise_raising_the_session_limit_by_one() -> None:
    report = _report(success=0.86, pool_wait=2.1, database="postgres")
    judge(report)
    assert report.verdict == "fail"
    assert report.hints[0] == (
        "success rate 86% with pool waits p95 2.10 s: raise SUPABASE_SESSION_LIMIT 4 → 5"
    )


def test_at_the_ceiling_the_hint_blames_the_database_not_the_limit() -> None:
    report = _report(success=0.86, pool_wait=2.1, database="postgres", limit=10, ceiling=10)
    judge(report)
    assert "at the ceiling (10)" in report.hints[0]


def test_waits_on_sqlite_advise_postgres_not_a_session_limit() -> None:
    report = _report(success=0.86, pool_wait=2.1, database="sqlite")
    judge(report)
    assert "use PostgreSQL" in report.hints[0]
    assert "SUPABASE_SESSION_LIMIT" not in report.hints[0]


def test_a_cpu_bound_process_is_named_before_the_session_limit() -> None:
    report = _report(success=0.86, pool_wait=2.1, database="postgres")
    report.loop_lag_p99 = 0.8
    judge(report)
    assert report.hints[0].startswith("event-loop lag p99 800 ms: the process is CPU-bound")
    assert "raise SUPABASE_SESSION_LIMIT 4 → 5" in report.hints[1]
