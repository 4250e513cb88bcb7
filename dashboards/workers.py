"""Workers: do jobs flow? Queue depth and wait, in-flight work, job time, retries, heartbeats."""

from __future__ import annotations

from typing import Any

from dashboards.layout import Section, build, runbook_link
from dashboards.panels import query, timeseries
from dashboards.queries import quantile, quantile_targets, rate, sel
from promlib.humanize import humanize_duration as dur
from telemetry import slo


def queue() -> Section:
    return Section(
        "Queue",
        [
            timeseries(
                "Queued jobs",
                [query(f"max({sel('csvbot_job_queue_depth')})", "queued")],
                description="The shared queue's depth (every process reports it; the max is shown).",
                links=[runbook_link("CsvbotJobQueueBacklogGrowing")],
            ),
            timeseries(
                "Queue wait p50 / p95 / p99",
                quantile_targets("csvbot_job_queue_wait_seconds"),
                unit="s",
            ),
            timeseries(
                "Jobs in flight by instance",
                [query(f"sum by (instance) ({sel('csvbot_jobs_in_flight')})", "{{instance}}")],
                stacked=True,
            ),
        ],
    )


def jobs() -> Section:
    return Section(
        "Jobs",
        [
            timeseries(
                "Jobs / s by outcome",
                [query(rate("csvbot_jobs_total", by=("outcome",)), "{{outcome}}")],
                unit="reqps",
                stacked=True,
            ),
            timeseries(
                "Job duration p95 by outcome",
                [
                    query(
                        quantile(0.95, "csvbot_job_duration_seconds", by=("outcome",)),
                        "{{outcome}}",
                    )
                ],
                unit="s",
                lines=[(slo.JOB_LEASE_SECONDS, "red")],
                description=f"A job still running after {dur(slo.JOB_LEASE_SECONDS)} loses its lease "
                "and is queued again by the reaper.",
            ),
            timeseries(
                "Stage duration p95",
                [query(quantile(0.95, "csvbot_job_stage_duration_seconds", by=("stage",)), "{{stage}}")],
                unit="s",
            ),
            timeseries(
                "Upload → result p95",
                [query(quantile(0.95, "csvbot_upload_to_result_seconds"), "p95")],
                unit="s",
                lines=[(slo.RESULT_SLO.threshold_seconds, "red")],
            ),
        ],
    )


def health() -> Section:
    heartbeat = sel("csvbot_worker_heartbeat_timestamp_seconds")
    return Section(
        "Retries, inputs, heartbeats",
        [
            timeseries(
                "Requeued jobs / s by reason",
                [query(rate("csvbot_jobs_requeued_total", by=("reason",)), "{{reason}}")],
                unit="reqps",
            ),
            timeseries(
                "Heartbeat age",
                # Processes that never ran a worker export 0: no heartbeat to age.
                [query(f"time() - ({heartbeat} > 0)", "{{instance}}")],
                unit="s",
                lines=[(slo.WORKER_HEARTBEAT_STALE_SECONDS, "red")],
                description=f"Workers beat every {dur(slo.WORKER_HEARTBEAT_INTERVAL_SECONDS)}; older than "
                f"{dur(slo.WORKER_HEARTBEAT_STALE_SECONDS)} pages.",
                links=[runbook_link("CsvbotWorkerHeartbeatStale")],
            ),
            timeseries(
                "CSV input size p50 / p95",
                [
                    query(quantile(0.5, "csvbot_csv_input_size_bytes"), "p50"),
                    query(quantile(0.95, "csvbot_csv_input_size_bytes"), "p95"),
                ],
                unit="bytes",
            ),
            timeseries(
                "CSV rows read / s",
                [query(rate("csvbot_csv_rows_total"), "rows")],
                unit="short",
            ),
        ],
    )


def dashboard() -> dict[str, Any]:
    return build(
        "workers",
        "csvbot / Workers",
        "Do jobs flow? Queue depth and wait, jobs in flight, job and stage time, retries and "
        "requeues, worker heartbeats, input sizes.",
        [queue(), jobs(), health()],
    )
