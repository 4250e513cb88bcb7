"""Cases for the multi-window, multi-burn-rate SLO alerts."""

from __future__ import annotations

from alerts.burn_rate import INDICATORS, SloIndicator
from alerts.cases.counters import Counter, Timeline
from alerts.cases.model import BOT, Case, counter, expect, rules_named, series
from alerts.timing import parse_duration
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


def _long_window_rate(per_minute: float, window: str) -> float:
    """Events per second over ``window`` when the series only hold the case's minutes of data."""
    seen = min(MINUTES - 5, parse_duration(window) // 60)
    return per_minute * seen / (parse_duration(window) // 60) / 60


def _other(ind: SloIndicator) -> SloIndicator:
    return next(other for other in INDICATORS if other is not ind)


def _case(ind: SloIndicator, when: str, per_minute: float, bad: float) -> Case:
    """The other SLO burns its whole budget meanwhile: this SLO's alerts must not see it."""
    expected = [
        expect(rule, bad, {"slo": ind.objective.name})
        for rule, (long, _, burn, _) in zip(rules_named(ind.alert), slo.BURN_RATE_WINDOWS, strict=True)
        if bad > burn * ind.budget
        and _long_window_rate(per_minute, long) >= slo.BURN_RATE_MIN_EVENTS_PER_SECOND
    ]
    return Case(
        alertname=ind.alert,
        when=when,
        input_series=[*_events(ind, per_minute, bad), *_events(_other(ind), BUSY_PER_MINUTE, 0.5)],
        eval_time="65m",
        expected=expected,
    )


def indicator_cases(ind: SloIndicator) -> list[Case]:
    cases = []
    # Each pair's burn rate from both sides, 1.5x and 0.67x: the pairs with a lower rate fire,
    # the others not, so a rate doubled or halved in any pair turns one case around.
    for long, short, burn, _ in slo.BURN_RATE_WINDOWS:
        for factor, side in ((1.5, "above"), (0.67, "below")):
            bad = round(factor * burn * ind.budget, 6)
            when = (
                f"{bad:.2%} of {ind.what} miss the objective, just {side} the {long}/{short} "
                f"pair's {burn:g}x burn (budget {ind.budget:.1%})"
            )
            cases.append(_case(ind, when, BUSY_PER_MINUTE, bad))
    guard = slo.BURN_RATE_MIN_EVENTS_PER_SECOND * 60
    cases.append(
        _case(
            ind,
            f"half of {guard * 1.5:g} {ind.what}/min miss it (just above the minimum-traffic guard)",
            guard * 1.5,
            0.5,
        )
    )
    cases.append(
        _case(
            ind,
            f"half of a night's {NIGHT_PER_MINUTE:g} {ind.what}/min miss it (minimum-traffic guard)",
            NIGHT_PER_MINUTE,
            0.5,
        )
    )
    return cases


#: The case's evaluation time in minutes; every window sees the data up to it.
EVAL_MINUTES = 65


def _span(window: str) -> int:
    """Minutes of data a window holds at the evaluation (the series start at 0)."""
    return min(parse_duration(window) // 60, EVAL_MINUTES)


def _shifted_case(ind: SloIndicator, pair: int, kind: str) -> Case:
    """The bad share changes when pair ``pair``'s short window begins: a *spike* (short window
    above the pair's burn, long window at 0.8x of it) or a *recovery* (long window at 1.6x,
    short window at 0.7x). Either way the pair must stay quiet, and a long or short threshold
    halved on its own makes it fire. Other pairs fire as their windows say."""
    long, short, burn, _ = slo.BURN_RATE_WINDOWS[pair]
    unit = burn * ind.budget
    span_long, span_short = _span(long), _span(short)
    after, long_share = (1.4, 0.8) if kind == "spike" else (0.7, 1.6)
    before = (long_share * span_long - after * span_short) / (span_long - span_short)
    assert 0 < before * unit < 1 and 0 < after * unit < 1
    change = EVAL_MINUTES - span_short

    def share(window: str) -> float:
        seen = _span(window)
        early = max(0, seen - span_short) if seen > span_short else 0
        late = seen - early
        return (early * before * unit + late * after * unit) / seen

    expected = [
        expect(rule, share(lw), {"slo": ind.objective.name})
        for rule, (lw, sw, b, _) in zip(rules_named(ind.alert), slo.BURN_RATE_WINDOWS, strict=True)
        if share(lw) > b * ind.budget and share(sw) > b * ind.budget
    ]
    labels = {**BOT, "handler": _handler(ind), "outcome": "ok"}
    t = Timeline(step=60, change=change, at=MINUTES)
    fast_before = BUSY_PER_MINUTE * (1 - before * unit)
    fast_after = BUSY_PER_MINUTE * (1 - after * unit)
    metric = ind.histogram
    inputs = [
        Counter(
            f"{metric}_bucket", {**labels, "le": le(ind.objective.threshold_seconds)}, fast_before, fast_after
        ).input_series(t),
        series(f"{metric}_bucket", {**labels, "le": "+Inf"}, counter(BUSY_PER_MINUTE, MINUTES)),
        series(f"{metric}_count", labels, counter(BUSY_PER_MINUTE, MINUTES)),
        *_events(_other(ind), BUSY_PER_MINUTE, 0.5),
    ]
    what = "rose" if kind == "spike" else "fell"
    when = f"the share of slow {ind.what} {what} {span_short}m ago: quiet {long}/{short} pair ({kind})"
    return Case(alertname=ind.alert, when=when, input_series=inputs, eval_time="65m", expected=expected)


def slo_cases() -> list[Case]:
    cases = [case for ind in INDICATORS for case in indicator_cases(ind)]
    # Windows that fit in the case's data (the 1h/5m and 6h/30m pairs): each threshold alone.
    for ind in INDICATORS:
        for pair, (_, short, _, _) in enumerate(slo.BURN_RATE_WINDOWS):
            if parse_duration(short) // 60 < EVAL_MINUTES / 2:
                cases += [_shifted_case(ind, pair, "spike"), _shifted_case(ind, pair, "recovery")]
    return cases
