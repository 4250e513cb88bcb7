"""Recording rules: success ratios, latency percentiles, pool utilisation, timeout and drop ratios.

Alerts and dashboards read these instead of repeating the raw expressions. Windows are nominal
(5m, 10m) and shrink in the fast test copy through :class:`~alerts.timing.Timing`.
"""

from __future__ import annotations

from alerts.model import RecordingRule, RuleGroup
from alerts.timing import Timing
from promlib import names
from promlib.promql import QUANTILES, any_of, quantile_label
from telemetry.slo import COMMAND_HANDLERS, LOG_LEVELS_SHEDDABLE, UPLOAD_HANDLER

#: Window of the success ratios and percentiles: long enough to smooth a scrape or two, short
#: enough that the 10 m ``for`` of the success-rate alert sees a sustained problem.
RATE_WINDOW = "5m"
#: slo.STORAGE_TIMEOUT_RATIO_MAX and slo.LOG_DROP_RATIO_MAX are defined "over 10 minutes".
RATIO_WINDOW = "10m"


def _success_ratio(selector_total: str, selector_good: str, window: str) -> str:
    return f"sum(rate({selector_good}[{window}]))\n/\nsum(rate({selector_total}[{window}]))"


def _quantiles(record: str, bucket_selector: str, by: tuple[str, ...], window: str) -> list[RecordingRule]:
    grouping = ", ".join((*by, "le"))
    return [
        RecordingRule(
            record=record,
            expr=(f"histogram_quantile({q:g}, sum by ({grouping}) (rate({bucket_selector}[{window}])))"),
            labels={"quantile": quantile_label(q)},
        )
        for q in QUANTILES
    ]


def success_rules(timing: Timing) -> list[RecordingRule]:
    w = timing.window(RATE_WINDOW)
    good = 'outcome!="failed"'
    return [
        RecordingRule(
            record=names.SUCCESS_RATIO,
            expr=(
                f"(\n  sum(rate(csvbot_updates_total{{{good}}}[{w}]))\n"
                f"  + sum(rate(csvbot_jobs_total{{{good}}}[{w}]))\n)\n/\n"
                f"(\n  sum(rate(csvbot_updates_total[{w}]))\n  + sum(rate(csvbot_jobs_total[{w}]))\n)"
            ),
        ),
        RecordingRule(
            record=names.USER_ACTIONS_RATE,
            expr=f"sum(rate(csvbot_updates_total[{w}])) + sum(rate(csvbot_jobs_total[{w}]))",
        ),
        RecordingRule(
            record=names.UPDATES_SUCCESS_RATIO,
            expr=_success_ratio("csvbot_updates_total", f"csvbot_updates_total{{{good}}}", w),
        ),
        RecordingRule(
            record=names.JOBS_SUCCESS_RATIO,
            expr=_success_ratio("csvbot_jobs_total", f"csvbot_jobs_total{{{good}}}", w),
        ),
    ]


def latency_rules(timing: Timing) -> list[RecordingRule]:
    w = timing.window(RATE_WINDOW)
    commands = f'csvbot_update_duration_seconds_bucket{{handler=~"{any_of(COMMAND_HANDLERS)}"}}'
    uploads = f'csvbot_update_duration_seconds_bucket{{handler="{UPLOAD_HANDLER}"}}'
    per_process = ("job", "instance")
    return [
        *_quantiles(names.COMMAND_LATENCY, commands, (), w),
        *_quantiles(names.UPLOAD_LATENCY, uploads, (), w),
        *_quantiles(names.UPLOAD_TO_RESULT_LATENCY, "csvbot_upload_to_result_seconds_bucket", (), w),
        *_quantiles(
            names.STORAGE_LATENCY, "csvbot_storage_request_duration_seconds_bucket", ("operation",), w
        ),
        *_quantiles(names.POOL_WAIT_LATENCY, "csvbot_db_pool_wait_seconds_bucket", per_process, w),
        *_quantiles(names.LOOP_LAG_LATENCY, "csvbot_event_loop_lag_seconds_bucket", per_process, w),
    ]


def saturation_rules(timing: Timing) -> list[RecordingRule]:
    w = timing.window(RATIO_WINDOW)
    storage_count = "csvbot_storage_request_duration_seconds_count"
    sheddable = f'level=~"{any_of(LOG_LEVELS_SHEDDABLE)}"'
    dropped = f"sum by (job, instance) (rate(csvbot_log_records_dropped_total{{{sheddable}}}[{w}]))"
    accepted = f"sum by (job, instance) (rate(csvbot_log_records_total{{{sheddable}}}[{w}]))"
    return [
        # A limit of 0 would mean "no pool": no utilisation rather than a division by zero.
        RecordingRule(
            record=names.POOL_UTILISATION,
            expr="csvbot_db_pool_in_use\n/\n(csvbot_db_session_limit > 0)",
        ),
        # The timeout ratio counts operations by the histogram's outcome so that numerator and
        # denominator come from one instrument and the ratio can never exceed 1.
        RecordingRule(
            record=names.STORAGE_TIMEOUT_RATIO,
            expr=(
                f'sum(rate({storage_count}{{outcome="storage_timeout"}}[{w}]))\n/\n'
                f"sum(rate({storage_count}[{w}]))"
            ),
        ),
        RecordingRule(record=names.STORAGE_REQUESTS_RATE, expr=f"sum(rate({storage_count}[{w}]))"),
        # Dropped records are not counted as accepted: offered = accepted + dropped.
        RecordingRule(
            record=names.LOG_DROP_RATIO,
            expr=f"{dropped}\n/\n(\n  {accepted}\n  + {dropped}\n)",
        ),
        RecordingRule(record=names.QUEUE_DEPTH, expr="max(csvbot_job_queue_depth)"),
    ]


def recording_group(timing: Timing) -> RuleGroup:
    return RuleGroup(
        name="csvbot.recording",
        rules=[*success_rules(timing), *latency_rules(timing), *saturation_rules(timing)],
        interval=timing.interval,
    )
