"""Cases for the Bot API trouble alert and the log-queue-near-full alert."""

from __future__ import annotations

from alerts.cases.model import BOT, Case, counter, expect, for_boundary, gauge, rule_named, series
from telemetry import slo

CALLS = "csvbot_telegram_requests_total"
#: Calls a minute of the busy method in the cases: far above the minimum-traffic guard.
BUSY = 1000
CAPACITY = 10000


def _calls(method: str, per_minute: dict[str, float], minutes: int = 20) -> list[dict[str, str]]:
    return [
        series(CALLS, {**BOT, "method": method, "status": status}, counter(n, minutes))
        for status, n in per_minute.items()
    ]


def telegram_cases() -> list[Case]:
    rule = rule_named("CsvbotTelegramApiTrouble")
    limit = slo.TELEGRAM_TROUBLE_RATIO_MAX
    # 1.5x the limit split evenly between 429 and 5xx: without either status the share halves
    # to below the limit. 0.67x for the quiet side; client errors never count.
    high, low = round(limit * 1.5, 4), round(limit * 0.67, 4)
    fire_at, quiet_at = for_boundary(rule, onset=1)
    guard = slo.BURN_RATE_MIN_EVENTS_PER_SECOND * 60

    def mix(per_minute: float, share: float) -> dict[str, float]:
        half = per_minute * share / 2
        return {"ok": per_minute - 2 * half, "retry_after": half, "server_error": half}

    healthy = _calls("editMessageText", {"ok": 900, "client_error": 100})
    send = {**BOT, "method": "sendMessage"}
    return [
        Case(
            alertname=rule.alert,
            when=f"{high:.0%} of sendMessage calls get 429 or 5xx for {slo.TELEGRAM_TROUBLE_FOR} (not less)",
            input_series=[*_calls("sendMessage", mix(BUSY, high)), *healthy],
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, high, {"method": "sendMessage"})],
        ),
        Case(
            alertname=rule.alert,
            # 20 % for 20m, then 30 % for 4m: over the last 10m the share is 24 % (it would read
            # 28 % over 5m, 22 % over 20m).
            when="a fifth of sendMessage calls get 429 or 5xx, then three tenths for the last 4m",
            input_series=[
                series(CALLS, {**send, "status": "ok"}, "0+800x20 16700+700x3"),
                series(CALLS, {**send, "status": "retry_after"}, "0+100x20 2150+150x3"),
                series(CALLS, {**send, "status": "server_error"}, "0+100x20 2150+150x3"),
                *healthy,
            ],
            eval_time="24m",
            expected=[expect(rule, 0.24, {"method": "sendMessage"})],
        ),
        Case(
            alertname=rule.alert,
            when=f"{low:.1%} of sendMessage calls get 429 or 5xx and a tenth of another method's are 4xx",
            input_series=[*_calls("sendMessage", mix(BUSY, low)), *healthy],
            eval_time="20m",
        ),
        Case(
            alertname=rule.alert,
            when=f"half of {guard * 1.5:g} sendMessage calls a minute get 429 or 5xx (above the guard)",
            input_series=[*_calls("sendMessage", mix(guard * 1.5, 0.5)), *healthy],
            eval_time="20m",
            expected=[expect(rule, 0.5, {"method": "sendMessage"})],
        ),
        Case(
            alertname=rule.alert,
            when=f"half of a night's {guard * 0.67:g} sendMessage calls a minute get 429 or 5xx",
            input_series=[*_calls("sendMessage", mix(guard * 0.67, 0.5)), *healthy],
            eval_time="20m",
        ),
    ]


def log_queue_cases() -> list[Case]:
    rule = rule_named("CsvbotLogQueueNearFull")
    # Just above the share (a share twice as high would be over 100 %), and 0.67x of it.
    full = 0.9
    low = round(slo.LOG_QUEUE_NEAR_FULL_RATIO * 0.67, 4)
    fire_at, quiet_at = for_boundary(rule, onset=0)

    def queue(depth: float) -> list[dict[str, str]]:
        return [
            series("csvbot_log_queue_depth", BOT, gauge(depth, 10)),
            series("csvbot_log_queue_capacity", BOT, gauge(CAPACITY, 10)),
        ]

    return [
        Case(
            alertname=rule.alert,
            when=f"the log queue stays {full:.0%} full for {slo.LOG_QUEUE_NEAR_FULL_FOR} (and not less)",
            input_series=queue(CAPACITY * full),
            eval_time=fire_at,
            quiet_at=quiet_at,
            expected=[expect(rule, full, BOT)],
        ),
        Case(
            alertname=rule.alert,
            when=f"the log queue stays {low:.1%} full",
            input_series=queue(CAPACITY * low),
            eval_time="10m",
        ),
        Case(
            alertname=rule.alert,
            when="a process reports a log queue of capacity 0",
            input_series=[
                series("csvbot_log_queue_depth", BOT, gauge(5, 10)),
                series("csvbot_log_queue_capacity", BOT, gauge(0, 10)),
            ],
            eval_time="10m",
        ),
    ]


def telegram_and_log_cases() -> list[Case]:
    return [*telegram_cases(), *log_queue_cases()]
