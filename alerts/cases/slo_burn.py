"""Cases for the multi-window, multi-burn-rate SLO alerts."""

from __future__ import annotations

from alerts.burn_rate import INDICATORS, SloIndicator
from alerts.cases.model import BOT, Case, counter, expect, rules_named, series
from promlib.promql import le
from telemetry import slo
from telemetry.slo import COMMAND_HANDLERS, UPLOAD_HANDLER

#: Events a minute in the busy cases: ~17/s, far above the minimum-traffic guard.
BUSY_PER_MINUTE = 1000
#: Events a minute in the night case: under slo.BURN_RATE_MIN_EVENTS_PER_SECOND (0.6/min).
NIGHT_PER_MINUTE = 0.4
#: Long enough for the 1h window to fill; the longer windows see the same ratio.
MINUTES = 70


def _handler(ind: SloIndicator) -> str:
    return COMMAND_HANDLERS[0] if ind.objective is slo.COMMAND_SLO else UPLOAD_HANDLER


def _events(ind: SloIndicator, per_minute: float, bad_fraction: float) -> list[dict[str, str]]:
    """``per_minute`` events of which ``bad_fraction`` were slower than the SLO threshold."""
    labels = {**BOT, "handler": _handler(ind), "outcome": "ok"}
    metric = ind.histogram
    fast = per_minute * (1 - bad_fraction)
    return [
        series(
            f"{metric}_bucket",
            {**labels, "le": le(ind.objective.threshold_seconds)},
            counter(fast, MINUTES),
        ),
        series(f"{metric}_bucket", {**labels, "le": "+Inf"}, counter(per_minute, MINUTES)),
        series(f"{metric}_count", labels, counter(per_minute, MINUTES)),
    ]


def indicator_cases(ind: SloIndicator) -> list[Case]:
    rules = rules_named(ind.alert)
    fastest = max(burn for _, _, burn, _ in slo.BURN_RATE_WINDOWS)
    # Twice the fastest burn: every window pair fires. 0.8x the slowest: within budget.
    burning = round(2 * fastest * ind.budget, 6)
    healthy = round(0.8 * ind.budget, 6)
    sel = {"slo": ind.objective.name}
    return [
        Case(
            alertname=ind.alert,
            when=f"{burning:.1%} of {ind.what} miss the objective for 70m (budget {ind.budget:.1%})",
            input_series=_events(ind, BUSY_PER_MINUTE, burning),
            eval_time="65m",
            expected=[expect(rule, burning, sel) for rule in rules],
        ),
        Case(
            alertname=ind.alert,
            when=f"{healthy:.2%} of {ind.what} miss the objective (within budget)",
            input_series=_events(ind, BUSY_PER_MINUTE, healthy),
            eval_time="65m",
        ),
        Case(
            alertname=ind.alert,
            when=f"half of a night's {NIGHT_PER_MINUTE:g} {ind.what}/min miss it (minimum-traffic guard)",
            input_series=_events(ind, NIGHT_PER_MINUTE, 0.5),
            eval_time="65m",
        ),
    ]


def slo_cases() -> list[Case]:
    return [case for ind in INDICATORS for case in indicator_cases(ind)]
