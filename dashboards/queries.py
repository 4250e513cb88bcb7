"""PromQL for dashboard panels: every selector honours ``$instance``; rates use Grafana's
``$__rate_interval`` so a panel stays correct at any zoom level and scrape interval."""

from __future__ import annotations

from collections.abc import Sequence

from dashboards.panels import INSTANCE, RATE, PromTarget, query
from promlib.promql import QUANTILES


def sel(metric: str, *matchers: str) -> str:
    """``metric{instance=~"$instance", <matchers>}``."""
    return f"{metric}{{{', '.join((INSTANCE, *matchers))}}}"


def _by(labels: Sequence[str]) -> str:
    return f"sum by ({', '.join(labels)}) " if labels else "sum "


def rate(metric: str, *matchers: str, by: Sequence[str] = ()) -> str:
    return f"{_by(by)}(rate({sel(metric, *matchers)}[{RATE}]))"


def increase_over_range(metric: str, *matchers: str, by: Sequence[str] = ()) -> str:
    """Total over the dashboard's whole time range (for stats and tables)."""
    return f"{_by(by)}(increase({sel(metric, *matchers)}[$__range]))"


def quantile(q: float, histogram: str, *matchers: str, by: Sequence[str] = ()) -> str:
    grouping = ", ".join((*by, "le"))
    return (
        f"histogram_quantile({q:g}, sum by ({grouping}) "
        f"(rate({sel(histogram + '_bucket', *matchers)}[{RATE}])))"
    )


def quantile_targets(
    histogram: str, *matchers: str, by: Sequence[str] = (), legend: str = ""
) -> list[PromTarget]:
    """p50, p95 and p99 of ``histogram``, with exemplars (trace links) switched on."""
    prefix = f"{legend} " if legend else ""
    return [
        query(quantile(q, histogram, *matchers, by=by), f"{prefix}p{q * 100:g}", exemplar=True)
        for q in QUANTILES
    ]


def top(k: int, expr: str) -> str:
    """The ``k`` largest series, largest first. Used instead of ``> 0`` filters so that a panel
    still returns (zero) data when nothing went wrong, and never lists a hundred idle series."""
    return f"sort_desc(topk({k}, {expr}))"


def buckets(histogram: str, *matchers: str) -> str:
    """Per-bucket counts for a heatmap."""
    return f"sum by (le) (increase({sel(histogram + '_bucket', *matchers)}[{RATE}]))"
