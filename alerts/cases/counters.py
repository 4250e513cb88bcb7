"""A model of counters whose rate changes once, and what ``rate()`` and percentiles make of them.

Recording-rule cases need inputs for which a wrong window or a wrong matcher gives a different
number: every series here runs at one rate until a *change point* and at another after it, and
the case is evaluated where the window under test straddles the change (it begins before the
change, its half lies after it, its double reaches back to the series' start). The expected
values are computed here from the definition — increase over the window divided by its length,
Prometheus' bucket interpolation for percentiles — not from the rules, so a rule that computes
something else fails its case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alerts.cases.model import series
from alerts.timing import format_duration, parse_duration
from promlib.promql import le


def step_for(window: str) -> int:
    """Sample step for a window: 1 m up to 2 h, 15 m up to a day, 3 h beyond (a few hundred
    samples at most, so that promtool evaluates each case in a fraction of a second)."""
    seconds = parse_duration(window)
    return 60 if seconds <= 7200 else 900 if seconds <= 86400 else 10800


@dataclass(frozen=True)
class Timeline:
    """Samples every ``step`` seconds; the rate changes after ``change`` samples; evaluated at ``at``."""

    step: int
    change: int
    at: int

    @classmethod
    def for_window(cls, window: str) -> Timeline:
        seconds = parse_duration(window)
        step = step_for(window)
        per_window = seconds // step
        at = per_window + per_window // 4  # 1.25 windows: the doubled window reaches before 0
        change = at - round(per_window * 0.7)  # inside (half, whole) window before `at`
        return cls(step=step, change=change, at=at)

    @property
    def interval(self) -> str:
        return format_duration(self.step)

    @property
    def eval_time(self) -> str:
        return format_duration(self.at * self.step)

    @property
    def samples(self) -> int:
        return self.at + 1


@dataclass(frozen=True)
class Counter:
    """A counter growing by ``before`` per sample up to the change point, by ``after`` then."""

    name: str
    labels: Mapping[str, str]
    before: float
    after: float

    def value(self, t: Timeline, sample: int) -> float:
        head = min(sample, t.change)
        return head * self.before + max(0, sample - t.change) * self.after

    def rate(self, t: Timeline, window: str) -> float:
        """Per second over ``window`` ending at the evaluation time (whole samples, no extrapolation)."""
        n = parse_duration(window) // t.step
        return (self.value(t, t.at) - self.value(t, t.at - n)) / (n * t.step)

    def input_series(self, t: Timeline) -> dict[str, str]:
        after = t.samples - 1 - t.change
        values = f"0+{_num(self.before)}x{t.change}"
        if after:
            values += f" {_num(self.before * t.change + self.after)}+{_num(self.after)}x{after - 1}"
        return series(self.name, self.labels, values)


def _num(v: float) -> str:
    return f"{v:.12g}"


def total_rate(counters: Sequence[Counter], t: Timeline, window: str) -> float:
    return sum(c.rate(t, window) for c in counters)


def histogram(
    name: str,
    labels: Mapping[str, str],
    bounds: Sequence[float],
    before: Mapping[float, float],
    after: Mapping[float, float],
) -> list[Counter]:
    """Bucket counters (``le``) plus ``_count`` for observations per sample falling at each bound.

    ``before``/``after`` map a bucket's upper bound to observations per sample in ``(prev, bound]``.
    """
    out = []
    for bound in [*bounds, math.inf]:
        b = sum(v for k, v in before.items() if k <= bound)
        a = sum(v for k, v in after.items() if k <= bound)
        out.append(
            Counter(f"{name}_bucket", {**labels, "le": "+Inf" if bound == math.inf else le(bound)}, b, a)
        )
    out.append(Counter(f"{name}_count", labels, sum(before.values()), sum(after.values())))
    return out


def quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Prometheus' ``histogram_quantile`` over (upper bound, cumulative rate) pairs, +Inf last."""
    buckets = sorted(buckets)
    total = buckets[-1][1]
    rank = q * total
    b = next(i for i, (_, count) in enumerate(buckets) if count >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    start, prev = (0.0, 0.0) if b == 0 else buckets[b - 1]
    end, count = buckets[b]
    return start + (end - start) * ((rank - prev) / (count - prev))


def scaled(value: float) -> int:
    """The value as the cases compare it: ``round(x * 1e6)`` on both sides, so float noise in the
    last digits of a sum of rates cannot fail a case while any real change still does."""
    return round(value * 1e6)
