"""Dashboard assembly: grid layout, the templated variables, links between dashboards.

Every dashboard has the same frame: a ``$datasource`` variable (any Prometheus), an ``$instance``
variable (csvbot processes, from ``csvbot_build_info``), a drop-down to the other csvbot
dashboards, and a link to the alert runbooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import attr
from grafanalib import core as g

from dashboards.panels import DATASOURCE, Heatmap, link
from promlib.runbooks import RUNBOOK_DOCUMENT, runbook_url

#: A grafanalib panel, or this package's own heatmap.
Panel = Any

TAG = "csvbot"
GRID_WIDTH = 24
#: Grafana's dashboard JSON schema version these dashboards are written for (Grafana 10/11).
SCHEMA_VERSION = 39

#: Stable UIDs: provisioning, cross-links and bookmarks rely on them never changing.
UIDS: dict[str, str] = {
    "overview": "csvbot-overview",
    "storage": "csvbot-storage",
    "runtime": "csvbot-runtime",
    "database": "csvbot-database",
    "workers": "csvbot-workers",
    "telegram": "csvbot-telegram",
}


def dashboard_link(key: str, title: str) -> dict[str, Any]:
    """A panel link to another csvbot dashboard, keeping the time range and the instance."""
    return link(title, f"/d/{UIDS[key]}?${{__url_time_range}}&${{instance:queryparam}}")


def runbook_link(alertname: str) -> dict[str, Any]:
    return link(f"Runbook: {alertname}", runbook_url(alertname))


@dataclass
class Section:
    """A titled row of panels; ``widths`` (grid units, 24 per line) default to equal shares."""

    title: str
    panels: Sequence[Panel]
    widths: Sequence[int] = ()
    height: int = 8

    def placed(self, y: int) -> tuple[list[Panel], int]:
        widths = list(self.widths) or [GRID_WIDTH // len(self.panels)] * len(self.panels)
        if len(widths) != len(self.panels):
            raise ValueError(f"section {self.title!r}: {len(widths)} widths for {len(self.panels)} panels")
        header = g.RowPanel(title=self.title, gridPos=g.GridPos(h=1, w=GRID_WIDTH, x=0, y=y))
        out: list[Panel] = [header]
        x, y = 0, y + 1
        for panel, width in zip(self.panels, widths, strict=True):
            if x + width > GRID_WIDTH:
                x, y = 0, y + self.height
            out.append(_moved(panel, g.GridPos(h=self.height, w=width, x=x, y=y)))
            x += width
        return out, y + self.height


def _moved(panel: Panel, grid_pos: g.GridPos) -> Panel:
    if isinstance(panel, Heatmap):
        return replace(panel, grid_pos=grid_pos)
    return attr.evolve(panel, gridPos=grid_pos)


def _numbered(panel: Panel, panel_id: int) -> Panel:
    if isinstance(panel, Heatmap):
        return replace(panel, id=panel_id)
    return attr.evolve(panel, id=panel_id)


_ALL = {"selected": True, "text": "All", "value": "$__all"}


def _variables(extra: Sequence[dict[str, Any]]) -> g.Templating:
    # Written as plain JSON: grafanalib's Template cannot pre-select "All" with its proper text.
    datasource = {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {"selected": True, "text": "Prometheus", "value": "prometheus"},
        "hide": 0,
        "options": [],
        "refresh": 1,
        "regex": "",
    }
    instance = {
        "name": "instance",
        "label": "Instance",
        "type": "query",
        "datasource": DATASOURCE,
        "definition": "label_values(csvbot_build_info, instance)",
        "query": {"query": "label_values(csvbot_build_info, instance)", "refId": "instance"},
        "current": _ALL,
        "includeAll": True,
        "multi": True,
        "hide": 0,
        "options": [],
        "refresh": g.REFRESH_ON_TIME_RANGE_CHANGE,
        "regex": "",
        "sort": 1,
    }
    return g.Templating(list=[datasource, instance, *extra])


def custom_variable(name: str, label: str, values: Sequence[str]) -> dict[str, Any]:
    """A multi-select variable over a closed label set from telemetry/labels.py, "All" selected."""
    options = [_ALL, *({"selected": False, "text": v, "value": v} for v in values)]
    return {
        "name": name,
        "label": label,
        "type": "custom",
        "query": ",".join(values),
        "current": _ALL,
        "options": options,
        "includeAll": True,
        "multi": True,
        "hide": 0,
    }


def build(
    key: str,
    title: str,
    description: str,
    sections: Sequence[Section],
    variables: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The dashboard JSON (a dict, ready for json.dumps)."""
    panels: list[Panel] = []
    y = 0
    for section in sections:
        placed, y = section.placed(y)
        panels.extend(placed)
    # Ids in layout order: stable across runs, so the JSON never churns.
    panels = [_numbered(p, i) for i, p in enumerate(panels, start=1)]
    dash = g.Dashboard(
        title=title,
        description=description,
        uid=UIDS[key],
        tags=[TAG],
        timezone="browser",
        refresh="30s",
        schemaVersion=SCHEMA_VERSION,
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        editable=False,
        templating=_variables(variables),
        links=[
            g.DashboardLink(
                title="csvbot dashboards",
                type="dashboards",
                tags=[TAG],
                asDropdown=True,
                includeVars=True,
                keepTime=True,
            ),
            g.DashboardLink(
                title="Alert runbooks",
                type="link",
                uri=f"{RUNBOOK_DOCUMENT}#alerts",
                icon="doc",
                targetBlank=True,
                keepTime=False,
            ),
        ],
        panels=panels,
    )
    data: dict[str, Any] = dash.to_json_data()
    # Legacy keys grafanalib writes for pre-Grafana-5 dashboards; current Grafana ignores them.
    for legacy in ("rows", "hideControls", "sharedCrosshair", "style", "gnetId", "id", "__inputs"):
        data.pop(legacy, None)
    return data
