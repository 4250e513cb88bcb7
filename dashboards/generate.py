"""Write the dashboards as JSON files for Grafana's file provisioning.

``write_all(root)`` writes ``dashboards/json/<uid>.json``; deploy/grafana/provisioning points
Grafana at that folder. Output is deterministic (sorted keys, stable UIDs and panel ids).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafanalib._gen import DashboardEncoder

from dashboards import database, overview, runtime, storage, telegram, workers
from promlib.render import write_text

JSON_DIR = Path("dashboards/json")

#: Every dashboard, in the order of the README's list.
DASHBOARDS: tuple[Callable[[], dict[str, Any]], ...] = (
    overview.dashboard,
    storage.dashboard,
    runtime.dashboard,
    database.dashboard,
    workers.dashboard,
    telegram.dashboard,
)


def all_dashboards() -> list[dict[str, Any]]:
    """The dashboards as plain JSON data (encoded and decoded once, so no objects remain)."""
    return [json.loads(to_json(build())) for build in DASHBOARDS]


def to_json(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, cls=DashboardEncoder, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_all(root: Path) -> list[Path]:
    out = root / JSON_DIR
    paths = []
    for data in all_dashboards():
        paths.append(write_text(out / f"{data['uid']}.json", to_json(data)))
    return paths
