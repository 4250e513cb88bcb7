"""Every query of the committed dashboards (``dashboards/json/*.json``), ready for Prometheus' API.

Grafana fills template variables in before it sends a query; the live test does the same, with
the values Grafana would use for "All instances, all operations" on a short time range:

==================== =========== ==================================================================
variable             becomes     why
==================== =========== ==================================================================
``$instance``        ``.*``      "All" of a multi-value variable matches every instance
``$operation``       ``.*``      "All" storage operations
``$__rate_interval`` ``10s``     ten 1 s scrapes: wide enough to hold events a few seconds apart
``$__interval``      ``1s``      one scrape
``$__range``         run length  the dashboard's time range is the simulated run
==================== =========== ==================================================================

``$datasource`` appears only in the panels' datasource fields, never in an expression: every query
goes to the Prometheus the test started.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DASHBOARDS_DIR = Path(__file__).resolve().parents[3] / "dashboards" / "json"
RATE_INTERVAL = "10s"
INTERVAL = "1s"
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref_id: str
    expr: str
    instant: bool

    @property
    def name(self) -> str:
        return f"{self.dashboard} / {self.panel} [{self.ref_id}]"


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # rows nest their panels


def dashboard_queries(directory: Path = DASHBOARDS_DIR) -> list[PanelQuery]:
    """Every Prometheus target of every panel of every dashboard JSON in ``directory``."""
    queries: list[PanelQuery] = []
    for path in sorted(directory.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in _panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                queries.append(
                    PanelQuery(
                        dashboard=dashboard["uid"],
                        panel=panel["title"],
                        ref_id=target.get("refId", "A"),
                        expr=target["expr"],
                        instant=bool(target.get("instant")),
                    )
                )
    return queries


def substitute(expr: str, *, range_seconds: int) -> str:
    """``expr`` with Grafana's variables replaced (see the module docstring); fails on any other."""
    values = {
        "instance": ".*",
        "operation": ".*",
        "__rate_interval": RATE_INTERVAL,
        "__interval": INTERVAL,
        "__range": f"{range_seconds}s",
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise ValueError(f"no live-test value for Grafana variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)
