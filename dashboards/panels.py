"""Panel builders on top of grafanalib 0.7.1, limited to modern panel types.

grafanalib gives us ``TimeSeries``, ``Stat``, ``Table`` and the dashboard model; where it falls
short this module fills in, and the README says so:

- its ``Heatmap`` is the pre-Grafana-9 panel (``cards``, ``dataFormat``), so :class:`Heatmap`
  here writes the current heatmap panel (``options.calculate = false`` over ``le`` buckets);
- its ``Target`` has no ``exemplar`` flag and writes Graphite-era keys, and its ``Threshold``
  writes the base step as the string ``"null"``; :class:`PromTarget` and :func:`threshold_steps`
  write what Grafana expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from grafanalib import core as g

#: Every panel and query reads the dashboard's ``$datasource`` variable.
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
#: Filter every csvbot series by the dashboard's ``$instance`` variable.
INSTANCE = 'instance=~"$instance"'
RATE = "$__rate_interval"

Threshold = tuple[float, str]  # (value, colour): a line drawn at value
#: A threshold that colours a count from its first occurrence ("any is too many"); the only
#: threshold value not taken from telemetry/slo.py.
ANY = 1.0


@dataclass(frozen=True)
class PromTarget:
    """A Prometheus query. grafanalib's ``Target`` cannot ask for exemplars (trace links)."""

    expr: str
    legend: str = ""
    ref_id: str = "A"
    instant: bool = False
    format: str = "time_series"
    exemplar: bool = False

    def to_json_data(self) -> dict[str, Any]:
        return {
            "datasource": DATASOURCE,
            "expr": self.expr,
            "legendFormat": self.legend,
            "refId": self.ref_id,
            "instant": self.instant,
            "range": not self.instant,
            "format": self.format,
            "exemplar": self.exemplar,
            "hide": False,
            "interval": "",
        }


def query(expr: str, legend: str = "", *, exemplar: bool = False) -> PromTarget:
    return PromTarget(expr=expr, legend=legend, exemplar=exemplar)


def instant(expr: str, legend: str = "") -> PromTarget:
    """A query read once at the end of the range, as a table."""
    return PromTarget(expr=expr, legend=legend, instant=True, format="table")


def _with_ref_ids(targets: Sequence[PromTarget]) -> list[PromTarget]:
    return [replace(t, ref_id=chr(ord("A") + i)) for i, t in enumerate(targets)]


def threshold_steps(lines: Sequence[Threshold], base: str = "green") -> list[dict[str, Any]]:
    """Grafana threshold steps: a base colour from -inf, then one step per line."""
    steps: list[dict[str, Any]] = [{"color": base, "value": None}]
    steps += [{"color": color, "value": value} for value, color in sorted(lines)]
    return steps


def link(title: str, url: str) -> dict[str, Any]:
    return {"title": title, "url": url, "targetBlank": url.startswith(("http", "README"))}


def timeseries(
    title: str,
    targets: Sequence[PromTarget],
    *,
    unit: str = "short",
    lines: Sequence[Threshold] = (),
    description: str = "",
    links: Sequence[dict[str, Any]] = (),
    stacked: bool = False,
    max_value: int | None = None,
) -> g.TimeSeries:
    """A time series; ``lines`` are drawn as dashed threshold lines (values from slo.py)."""
    return g.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_with_ref_ids(targets),
        unit=unit,
        thresholds=threshold_steps(lines),
        thresholdsStyleMode="dashed" if lines else "off",
        thresholdType="absolute",
        links=list(links),
        stacking={"mode": "normal", "group": "A"} if stacked else {"mode": "none"},
        fillOpacity=20 if stacked else 0,
        legendDisplayMode="table",
        legendCalcs=["mean", "max", "lastNotNull"],
        tooltipMode="multi",
        valueMin=0,
        valueMax=max_value,
        maxDataPoints=None,
    )


def stat(
    title: str,
    target: PromTarget,
    *,
    unit: str = "short",
    lines: Sequence[Threshold] = (),
    base: str = "green",
    description: str = "",
    links: Sequence[dict[str, Any]] = (),
    decimals: int | None = None,
) -> g.Stat:
    return g.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_with_ref_ids([target]),
        format=unit,
        color={"mode": "thresholds"},
        thresholds=threshold_steps(lines, base),
        thresholdType="absolute",
        colorMode="background" if lines else "value",
        graphMode="area",
        reduceCalc="lastNotNull",
        decimals=decimals,
        links=list(links),
        noValue="0",
        maxDataPoints=None,
    )


def table(
    title: str,
    targets: Sequence[PromTarget],
    *,
    unit: str = "short",
    description: str = "",
    exclude: Sequence[str] = ("Time",),
) -> g.Table:
    """An instant-query table; the ``Time`` column is hidden, rows sorted by value."""
    return g.Table(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_with_ref_ids(targets),
        unit=unit,
        filterable=True,
        sortBy=[g.TableSortByField(displayName="Value", desc=True)],
        transformations=[
            {"id": "organize", "options": {"excludeByName": dict.fromkeys(exclude, True)}},
        ],
        maxDataPoints=None,
    )


@dataclass(frozen=True)
class Heatmap:
    """The current Grafana heatmap panel over pre-computed ``le`` buckets (no re-bucketing).

    Written from scratch: grafanalib's ``Heatmap`` is the pre-Grafana-9 panel.
    """

    title: str
    target: PromTarget
    unit: str = "s"
    description: str = ""
    repeat: str | None = None
    grid_pos: g.GridPos | None = None
    id: int | None = None

    def to_json_data(self) -> dict[str, Any]:
        return {
            "type": "heatmap",
            "title": self.title,
            "description": self.description,
            "datasource": DATASOURCE,
            "targets": [self.target],
            "gridPos": self.grid_pos,
            "id": self.id,
            "links": [],
            "repeat": self.repeat,
            "repeatDirection": "h",
            "maxPerRow": 3,
            "fieldConfig": {
                "defaults": {"custom": {"scaleDistribution": {"type": "linear"}}},
                "overrides": [],
            },
            "options": {
                "calculate": False,
                "cellGap": 1,
                "color": {"mode": "scheme", "scheme": "Oranges", "scale": "exponential", "exponent": 0.5},
                "exemplars": {"color": "rgba(255,0,255,0.7)"},
                "filterValues": {"le": 1e-9},
                "legend": {"show": True},
                "rowsFrame": {"layout": "le"},
                "tooltip": {"mode": "single", "yHistogram": True},
                "yAxis": {"unit": self.unit, "axisPlacement": "left"},
            },
        }


def heatmap(
    title: str, bucket_expr: str, *, unit: str = "s", description: str = "", repeat: str | None = None
) -> Heatmap:
    """``bucket_expr`` must be ``sum by (le) (increase(<metric>_bucket{...}[$__rate_interval]))``."""
    target = PromTarget(expr=bucket_expr, legend="{{le}}", format="heatmap", exemplar=True)
    return Heatmap(title=title, target=target, unit=unit, description=description, repeat=repeat)
