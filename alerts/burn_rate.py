"""SLO error-budget burn: multi-window, multi-burn-rate alerts (Google SRE workbook, ch. 5).

For each latency SLO an event is *bad* when it failed or took longer than the SLO threshold. The
error ratio is recorded over every window in ``slo.BURN_RATE_WINDOWS``; an alert fires when both
the long and the short window burn faster than the pair's rate, and only when the long window saw
at least ``slo.BURN_RATE_MIN_EVENTS_PER_SECOND`` events: two failures out of three requests at
night are noise, not a burning budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.model import AlertRule, RecordingRule, RuleGroup
from alerts.timing import Timing, parse_duration
from promlib import names
from promlib.humanize import humanize_duration, humanize_percentage
from promlib.promql import any_of, le
from telemetry import slo
from telemetry.slo import COMMAND_HANDLERS, UPLOAD_HANDLER


@dataclass(frozen=True)
class SloIndicator:
    """Where one latency SLO's events are counted: a histogram and the matchers of its events."""

    objective: slo.LatencySlo
    alert: str
    what: str
    histogram: str
    matchers: str

    @property
    def budget(self) -> float:
        # Rounded so that 1 - 0.995 reads 0.005 in the expression, not 0.0050000000000000044.
        return round(self.objective.error_budget, 9)

    def error_ratio_expr(self, window: str) -> str:
        good = (
            f'{self.histogram}_bucket{{{self.matchers}, outcome!="failed", '
            f'le="{le(self.objective.threshold_seconds)}"}}'
        )
        return (
            f"1 - (\n  sum(rate({good}[{window}]))\n  /\n"
            f"  sum(rate({self.histogram}_count{{{self.matchers}}}[{window}]))\n)"
        )

    def event_rate_expr(self, window: str) -> str:
        return f"sum(rate({self.histogram}_count{{{self.matchers}}}[{window}]))"


INDICATORS: tuple[SloIndicator, ...] = (
    SloIndicator(
        objective=slo.COMMAND_SLO,
        alert="CsvbotCommandErrorBudgetBurn",
        what="commands",
        histogram="csvbot_update_duration_seconds",
        matchers=f'handler=~"{any_of(COMMAND_HANDLERS)}"',
    ),
    SloIndicator(
        objective=slo.UPLOAD_SLO,
        alert="CsvbotUploadErrorBudgetBurn",
        what="uploads",
        histogram="csvbot_update_duration_seconds",
        matchers=f'handler="{UPLOAD_HANDLER}"',
    ),
)


def burn_windows() -> list[str]:
    """Every window any pair uses, shortest first."""
    windows = {w for long, short, _, _ in slo.BURN_RATE_WINDOWS for w in (long, short)}
    return sorted(windows, key=parse_duration)


def recording_group(timing: Timing) -> RuleGroup:
    rules: list[RecordingRule] = []
    for ind in INDICATORS:
        label = {"slo": ind.objective.name}
        for nominal in burn_windows():
            w = timing.window(nominal)
            rules.append(RecordingRule(names.slo_error_ratio(nominal), ind.error_ratio_expr(w), label))
            rules.append(RecordingRule(names.slo_event_rate(nominal), ind.event_rate_expr(w), label))
    return RuleGroup(name="csvbot.slo.recording", rules=rules, interval=timing.interval)


def _burn_alert(ind: SloIndicator, long: str, short: str, burn: float, severity: str) -> AlertRule:
    sel = f'{{slo="{ind.objective.name}"}}'
    threshold = f"({burn:g} * {ind.budget:g})"
    obj = ind.objective
    exhausted = humanize_duration(parse_duration(obj.window) / burn)
    return AlertRule(
        alert=ind.alert,
        expr=(
            f"{names.slo_error_ratio(long)}{sel} > {threshold}\nand\n"
            f"{names.slo_error_ratio(short)}{sel} > {threshold}\nand\n"
            f"{names.slo_event_rate(long)}{sel} >= {slo.BURN_RATE_MIN_EVENTS_PER_SECOND:g}"
        ),
        severity="critical" if severity == "critical" else "warning",
        labels={"long_window": long, "short_window": short},
        summary=(
            f"The {obj.name} SLO ({humanize_percentage(obj.target)} of {ind.what} within "
            f"{humanize_duration(obj.threshold_seconds)}) burns its error budget at {burn:g}x "
            "the sustainable rate."
        ),
        description=(
            "{{ $value | humanizePercentage }} of " + ind.what + " were slower than "
            f"{humanize_duration(obj.threshold_seconds)} or failed over the last {long} (and the "
            f"last {short}); the {obj.window} budget of {humanize_percentage(ind.budget)} "
            f"lasts {exhausted} at this rate."
        ),
    )


def alert_group(timing: Timing) -> RuleGroup:
    # Burn-rate alerts carry no ``for``: the short window already makes them reset quickly.
    rules = [
        _burn_alert(ind, long, short, burn, severity)
        for ind in INDICATORS
        for long, short, burn, severity in slo.BURN_RATE_WINDOWS
    ]
    return RuleGroup(name="csvbot.slo.alerts", rules=rules, interval=timing.interval)
