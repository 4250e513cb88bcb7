"""Histogram input series whose percentiles land where a case needs them.

All observations of a case fall into one bucket ``(lo, hi]`` of the real bucket layout, so
Prometheus' linear interpolation puts quantile ``q`` exactly at ``lo + (hi - lo) * q``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alerts.cases.model import counter, series
from promlib.promql import le


def bucket_around(buckets: Sequence[float], threshold: float) -> tuple[float, float, float]:
    """The bounds just below and just above ``threshold`` in ``buckets`` (it must be one)."""
    i = list(buckets).index(threshold)
    if i == 0 or i == len(buckets) - 1:
        raise ValueError(f"{threshold} has no neighbour bucket on one side")
    return buckets[i - 1], threshold, buckets[i + 1]


def observed_in(
    metric: str,
    labels: Mapping[str, str],
    lo: float,
    hi: float,
    *,
    per_minute: int,
    minutes: int,
) -> list[dict[str, str]]:
    """``per_minute`` observations a minute, every one in the bucket ``(lo, hi]``."""
    return [
        series(f"{metric}_bucket", {**labels, "le": le(lo)}, counter(0, minutes)),
        series(f"{metric}_bucket", {**labels, "le": le(hi)}, counter(per_minute, minutes)),
        series(f"{metric}_bucket", {**labels, "le": "+Inf"}, counter(per_minute, minutes)),
        series(f"{metric}_count", labels, counter(per_minute, minutes)),
    ]


def quantile_in(lo: float, hi: float, q: float) -> float:
    """Where Prometheus puts quantile ``q`` when every observation is in ``(lo, hi]``."""
    return lo + (hi - lo) * q
