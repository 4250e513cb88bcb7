"""The simulation report: per-operation latency and success, what the service's own metrics saw,
and a verdict against the SLO targets in ``telemetry/slo.py`` — with a tuning hint when it fails.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from simulate.driver import RunState, Sample
from simulate.scenarios import Scenario
from telemetry import slo
from telemetry.labels import STORAGE_OPERATIONS

OPS = ("command", "upload_accepted", "upload_result")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1) of raw samples; ``None`` for no samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus's ``histogram_quantile`` over cumulative ``(le, count)`` pairs."""
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return prev_le


def _buckets(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for family in registry.collect():
        if family.name != name:
            continue
        per_le: dict[float, float] = {}
        for sample in family.samples:
            if not sample.name.endswith("_bucket"):
                continue
            if any(sample.labels.get(k) != v for k, v in labels.items()):
                continue
            le = float(sample.labels["le"])
            per_le[le] = per_le.get(le, 0.0) + sample.value
        out = sorted(per_le.items())
    return out


def _sum(registry: CollectorRegistry, sample_name: str) -> float:
    total = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == sample_name:
                total += sample.value
    return total


@dataclass
class OpStats:
    count: int
    success_rate: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    outcomes: dict[str, int]


@dataclass
class Report:
    scenario: str
    settings: dict[str, Any]
    ops: dict[str, OpStats]
    overall_success_rate: float | None
    arrivals: int
    uploads: int
    jobs_queued: int
    results_per_job: dict[str, int]
    storage: dict[str, dict[str, float | None]]
    storage_timeouts: float
    storage_retries: float
    pool_wait_p95: float | None
    pool_acquire_timeouts: float
    loop_lag_p99: float | None
    loop_lag_max: float
    log_records_dropped: float
    checks: dict[str, bool] = field(default_factory=dict)
    verdict: str = "pass"
    hints: list[str] = field(default_factory=list)
    #: What saturated first (simulate/saturation.py): pressure per candidate, highest first.
    saturation: dict[str, float] = field(default_factory=dict)
    #: Cores each process used over the run (the service's, the driver's).
    cpu_cores: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def op_stats(samples: list[Sample], op: str) -> OpStats:
    mine = [s for s in samples if s.op == op]
    outcomes: dict[str, int] = {}
    for s in mine:
        outcomes[s.outcome] = outcomes.get(s.outcome, 0) + 1
    latencies = [s.latency for s in mine if s.outcome != "timeout"]
    ok = outcomes.get("ok", 0)
    return OpStats(
        count=len(mine),
        success_rate=ok / len(mine) if mine else None,
        p50=percentile(latencies, 0.50),
        p95=percentile(latencies, 0.95),
        p99=percentile(latencies, 0.99),
        outcomes=outcomes,
    )


def build_report(
    scenario: Scenario,
    state: RunState,
    registry: CollectorRegistry,
    *,
    session_limit: int,
    session_limit_max: int,
    database: str,
    loop_lag_max: float,
    results_per_job: dict[str, int],
) -> Report:
    ops = {op: op_stats(state.samples, op) for op in OPS}
    total = len(state.samples)
    ok = sum(1 for s in state.samples if s.outcome == "ok")
    storage = {}
    for operation in STORAGE_OPERATIONS:
        buckets = _buckets(registry, "csvbot_storage_request_duration_seconds", {"operation": operation})
        if buckets and buckets[-1][1] > 0:
            storage[operation] = {
                "count": buckets[-1][1],
                "p50": histogram_quantile(0.5, buckets),
                "p95": histogram_quantile(0.95, buckets),
                "p99": histogram_quantile(0.99, buckets),
            }
    report = Report(
        scenario=scenario.name,
        settings={
            "users": scenario.users,
            "rate_per_second": scenario.rate,
            "duration_seconds": scenario.duration,
            "database": database,
            "session_limit": session_limit,
            "session_limit_max": session_limit_max,
            "storage_timeout_seconds": scenario.storage_timeout,
            "faults": asdict(scenario.faults),
        },
        ops=ops,
        overall_success_rate=ok / total if total else None,
        arrivals=state.arrivals,
        uploads=state.uploads,
        jobs_queued=len(state.jobs),
        results_per_job=results_per_job,
        storage=storage,
        storage_timeouts=_sum(registry, "csvbot_storage_timeouts_total"),
        storage_retries=_sum(registry, "csvbot_storage_retries_total"),
        pool_wait_p95=histogram_quantile(0.95, _buckets(registry, "csvbot_db_pool_wait_seconds", {})),
        pool_acquire_timeouts=_sum(registry, "csvbot_db_pool_acquire_timeouts_total"),
        loop_lag_p99=histogram_quantile(0.99, _buckets(registry, "csvbot_event_loop_lag_seconds", {})),
        loop_lag_max=loop_lag_max,
        log_records_dropped=_sum(registry, "csvbot_log_records_dropped_total"),
    )
    judge(report)
    return report


def judge(report: Report) -> None:
    """Fill in checks, verdict and hints from the thresholds the alerts use."""
    cmd, acc = report.ops["command"], report.ops["upload_accepted"]
    success = report.overall_success_rate
    report.checks = {
        f"success rate >= {slo.SUCCESS_RATE_TARGET:.0%}": success is not None
        and success >= slo.SUCCESS_RATE_TARGET,
        f"command p95 <= {slo.SIMPLE_OP_P95_SECONDS:g} s": cmd.p95 is None
        or cmd.p95 <= slo.SIMPLE_OP_P95_SECONDS,
        f"upload accepted p95 <= {slo.UPLOAD_P95_SECONDS:g} s": acc.p95 is None
        or acc.p95 <= slo.UPLOAD_P95_SECONDS,
        "every queued upload got exactly one result": all(n == 1 for n in report.results_per_job.values())
        and len(report.results_per_job) == report.jobs_queued,
    }
    report.verdict = "pass" if all(report.checks.values()) else "fail"
    if report.verdict == "pass":
        return
    limit = int(report.settings["session_limit"])
    ceiling = int(report.settings["session_limit_max"])
    pool_wait = report.pool_wait_p95 or 0.0
    if pool_wait > slo.POOL_WAIT_P95_MAX_SECONDS or report.pool_acquire_timeouts:
        rate = f"{success:.0%}" if success is not None else "n/a"
        if report.settings.get("database") == "sqlite":
            report.hints.append(
                f"success rate {rate} with database waits p95 {pool_wait:.2f} s on SQLite, which "
                "serialises every query on one connection: use PostgreSQL (DATABASE_URL)"
            )
        elif limit < ceiling:
            report.hints.append(
                f"success rate {rate} with pool waits p95 {pool_wait:.2f} s: "
                f"raise SUPABASE_SESSION_LIMIT {limit} → {limit + 1}"
            )
        else:
            report.hints.append(
                f"pool waits p95 {pool_wait:.2f} s at the ceiling ({ceiling}): "
                "the database itself is the bottleneck; look at query latency"
            )
    calls = sum(int(v["count"] or 0) for v in report.storage.values())
    if calls and report.storage_timeouts / calls > slo.STORAGE_TIMEOUT_RATIO_MAX:
        report.hints.append(
            f"{report.storage_timeouts:.0f} of {calls} storage calls timed out "
            f"(> {slo.STORAGE_TIMEOUT_RATIO_MAX:.0%}): check Supabase Storage status; retries are on, "
            "so persistent timeouts mean the provider, not the client"
        )
    if report.loop_lag_p99 and report.loop_lag_p99 > slo.EVENT_LOOP_LAG_P99_WARN_SECONDS:
        # First: a loop this busy slows everything, pool waits included, so more sessions
        # cannot help until the CPU does.
        report.hints.insert(
            0,
            f"event-loop lag p99 {report.loop_lag_p99 * 1000:.0f} ms: the process is CPU-bound; "
            "run workers as separate processes (REDIS_URL) or add CPU before raising limits",
        )
    if not report.hints:
        report.hints.append("no single resource stands out; see the per-operation outcomes above")
