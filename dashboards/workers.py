"""Workers: do jobs flow? Queue depth and wait, in-flight work, job time, retries, heartbeats,
and what waits too long: stuck jobs, undelivered results, a broker workers cannot read."""

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


def waiting() -> Section:
    return Section(
        "Waiting: stuck jobs, undelivered results, the broker",
        [
            timeseries(
                "Oldest waiting job by status",
                [query(f"max by (status) ({sel('csvbot_jobs_oldest_age_seconds')})", "{{status}}")],
                unit="s",
                lines=[(slo.JOB_STUCK_SECONDS, "red")],
                description="How long the oldest received, queued and running job has been so (the "
                "reaper reads the job rows every tick; every process reports the same rows). Over "
                f"{dur(slo.JOB_STUCK_SECONDS)} for {slo.JOB_STUCK_FOR} pages.",
                links=[runbook_link("CsvbotJobsStuck")],
            ),
            timeseries(
                "Results not delivered",
                [query(f"max({sel('csvbot_results_undelivered')})", "results")],
                description="Done jobs whose result has not reached the user yet (delivery retries "
                f"in progress); given up after {slo.DELIVERY_MAX_ATTEMPTS} attempts.",
                links=[runbook_link("CsvbotResultsUndelivered")],
            ),
            timeseries(
                "Oldest undelivered result",
                [query(f"max({sel('csvbot_results_undelivered_oldest_age_seconds')})", "age")],
                unit="s",
                lines=[(slo.RESULT_UNDELIVERED_SECONDS, "red")],
                description=f"Over {dur(slo.RESULT_UNDELIVERED_SECONDS)} for "
                f"{slo.RESULT_UNDELIVERED_FOR} warns.",
                links=[runbook_link("CsvbotResultsUndelivered")],
            ),
            timeseries(
                "Broker read errors / s by instance and kind",
                [
                    query(
                        rate("csvbot_broker_receive_errors_total", by=("instance", "kind")),
                        "{{instance}} {{kind}}",
                    )
                ],
                unit="reqps",
                lines=[(slo.BROKER_RECEIVE_ERRORS_PER_SECOND_MAX, "red")],
                description="Failed reads of workers from Redis: connection, timeout, no_group (Redis "
                "lost its data), other. A worker above the line takes no jobs.",
                links=[runbook_link("CsvbotBrokerReceiveFailing")],
            ),
        ],
    )


def dashboard() -> dict[str, Any]:
    return build(
        "workers",
        "csvbot / Workers",
        "Do jobs flow? Queue depth and wait, jobs in flight, job and stage time, retries and "
        "requeues, worker heartbeats, input sizes; jobs waiting too long, results not delivered, "
        "broker read errors.",
        [queue(), jobs(), health(), waiting()],
    )
