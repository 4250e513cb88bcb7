"""Alerts on the Bot API's answers and on the log writer falling behind before it drops."""

from __future__ import annotations

from alerts.model import AlertRule
from alerts.timing import Timing
from promlib.humanize import humanize_percentage
from promlib.promql import any_of
from telemetry import slo

#: Statuses that mean "Telegram is in trouble or throttling us": 429 and 5xx. Client errors are
#: our bugs (a separate signal), network errors are our side's connectivity.
TROUBLE_STATUSES: tuple[str, ...] = ("retry_after", "server_error")
#: The share is taken over the same 10 minutes as the other ratio alerts.
TELEGRAM_WINDOW = "10m"
CALLS = "csvbot_telegram_requests_total"


def telegram_api_trouble(timing: Timing) -> AlertRule:
    w = timing.window(TELEGRAM_WINDOW)
    limit = humanize_percentage(slo.TELEGRAM_TROUBLE_RATIO_MAX)
    trouble = f'sum by (method) (rate({CALLS}{{status=~"{any_of(TROUBLE_STATUSES)}"}}[{w}]))'
    every = f"sum by (method) (rate({CALLS}[{w}]))"
    return AlertRule(
        alert="CsvbotTelegramApiTrouble",
        expr=(
            f"{trouble}\n/\n{every}\n> {slo.TELEGRAM_TROUBLE_RATIO_MAX:g}\n"
            f"and on (method)\n{every} >= {slo.BURN_RATE_MIN_EVENTS_PER_SECOND:g}"
        ),
        hold=timing.hold(slo.TELEGRAM_TROUBLE_FOR),
        severity="warning",
        summary=f"More than {limit} of a Bot API method's calls get 429 or 5xx.",
        description=(
            "{{ $value | humanizePercentage }} of {{ $labels.method }} calls were answered 429 "
            f"(retry_after) or 5xx over the last {TELEGRAM_WINDOW} (limit {limit}). Replies wait "
            "for the retries: check Telegram's status and the Telegram API dashboard's 429s."
        ),
    )


def log_queue_near_full(timing: Timing) -> AlertRule:
    share = humanize_percentage(slo.LOG_QUEUE_NEAR_FULL_RATIO)
    return AlertRule(
        alert="CsvbotLogQueueNearFull",
        # A capacity of 0 would mean "no queue": no ratio rather than a division by zero.
        expr=(
            f"csvbot_log_queue_depth\n/\n(csvbot_log_queue_capacity > 0)\n> {slo.LOG_QUEUE_NEAR_FULL_RATIO:g}"
        ),
        hold=timing.hold(slo.LOG_QUEUE_NEAR_FULL_FOR),
        severity="warning",
        summary=f"The log queue is more than {share} full: records will be dropped next.",
        description=(
            "The log queue on {{ $labels.instance }} is {{ $value | humanizePercentage }} full "
            f"(warns above {share} of LOG_QUEUE_SIZE for {slo.LOG_QUEUE_NEAR_FULL_FOR}): the "
            "writer is behind its sinks. Check a slow LOG_FILE disk or stderr collector."
        ),
    )


def telegram_and_log_alerts(timing: Timing) -> list[AlertRule]:
    return [telegram_api_trouble(timing), log_queue_near_full(timing)]
