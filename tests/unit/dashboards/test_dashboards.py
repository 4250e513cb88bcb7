"""The generated dashboards: committed and current, modern panels only, real metrics, slo lines."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from alerts.rules import alert_names, recorded_names
from dashboards.generate import JSON_DIR, all_dashboards, write_all
from dashboards.layout import GRID_WIDTH, UIDS
from dashboards.panels import ANY
from promlib.promql import metric_names
from promlib.runbooks import runbook_url
from telemetry import slo
from telemetry.metrics import Metrics

ROOT = Path(__file__).resolve().parents[3]
MODERN_PANEL_TYPES = {"timeseries", "stat", "heatmap", "table", "row"}


@pytest.fixture(scope="module")
def dashboards() -> list[dict[str, Any]]:
    return all_dashboards()


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _exprs(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def test_committed_dashboards_match_a_fresh_generation(tmp_path: Path) -> None:
    """Regenerating reproduces every committed JSON file byte for byte, with no stale file left."""
    fresh = {p.name: p.read_text(encoding="utf-8") for p in write_all(tmp_path)}
    committed = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / JSON_DIR).glob("*.json")}
    assert sorted(committed) == sorted(fresh), "run `csvbot generate` and commit"
    for name, text in fresh.items():
        assert committed[name] == text, f"dashboards/json/{name} is stale: run `csvbot generate`"


def test_every_dashboard_is_there_with_its_stable_uid(dashboards: list[dict[str, Any]]) -> None:
    assert sorted(d["uid"] for d in dashboards) == sorted(UIDS.values())
    for d in dashboards:
        assert (ROOT / JSON_DIR / f"{d['uid']}.json").is_file()


def test_panels_use_modern_types_only(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        for panel in _panels(d):
            assert panel["type"] in MODERN_PANEL_TYPES, f"{d['uid']}: {panel['title']} is {panel['type']}"


def test_panels_query_only_series_the_service_registers(dashboards: list[dict[str, Any]]) -> None:
    """Metric names parsed out of each query must be exported by ``Metrics`` or recorded by a rule."""
    registry = CollectorRegistry()
    Metrics(registry)
    exported = {s.name for fam in registry.collect() for s in fam.samples}
    recorded = recorded_names()
    checked = 0
    for d in dashboards:
        for title, expr in _exprs(d):
            names = metric_names(expr)
            assert names, f"{d['uid']}: {title}: no metric found in {expr!r}"
            for name in names:
                checked += 1
                known = name in recorded if ":" in name else name in exported
                assert known, f"{d['uid']}: {title} queries {name!r}, which nothing exports"
    assert checked > 50


def test_queries_of_raw_metrics_honour_the_instance_variable(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        for title, expr in _exprs(d):
            raw = [n for n in metric_names(expr) if ":" not in n]
            if raw:
                assert '$instance"' in expr, f"{d['uid']}: {title} ignores $instance"


def test_every_panel_reads_the_datasource_variable(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        variables = {v["name"]: v for v in d["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        assert variables["instance"]["type"] == "query"
        for panel in _panels(d):
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
                for target in panel["targets"]:
                    assert target["datasource"] == panel["datasource"]


def test_threshold_values_come_from_slo(dashboards: list[dict[str, Any]]) -> None:
    """Every threshold step is a number defined in telemetry/slo.py (or the 'any occurrence' step)."""
    allowed = {ANY}
    for value in vars(slo).values():
        if isinstance(value, int | float) and not isinstance(value, bool):
            allowed.add(float(value))
        if isinstance(value, slo.LatencySlo):
            allowed.add(value.threshold_seconds)
    lines = 0
    for d in dashboards:
        for panel in _panels(d):
            steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
            for step in steps:
                if step["value"] is not None:
                    lines += 1
                    assert float(step["value"]) in allowed, f"{d['uid']}: {panel['title']}: {step['value']}"
    assert lines > 10


def test_key_slo_thresholds_are_drawn(dashboards: list[dict[str, Any]]) -> None:
    drawn = {
        step["value"]
        for d in dashboards
        for panel in _panels(d)
        if panel["type"] == "timeseries"
        for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    }
    for threshold in (
        slo.SUCCESS_RATE_MIN,
        slo.STORAGE_SLOW_SECONDS,
        slo.STORAGE_TIMEOUT_SECONDS,
        slo.STORAGE_TIMEOUT_RATIO_MAX,
        slo.POOL_WAIT_P95_MAX_SECONDS,
        slo.EVENT_LOOP_LAG_P99_WARN_SECONDS,
        slo.COMMAND_SLO.threshold_seconds,
        slo.UPLOAD_SLO.threshold_seconds,
        slo.WORKER_HEARTBEAT_STALE_SECONDS,
    ):
        assert threshold in drawn, f"no panel draws {threshold}"


def test_dashboards_link_to_each_other_and_to_runbooks(dashboards: list[dict[str, Any]]) -> None:
    runbooks = {runbook_url(a) for a in alert_names()}
    linked_runbooks: set[str] = set()
    for d in dashboards:
        assert any(link["type"] == "dashboards" and "csvbot" in link["tags"] for link in d["links"])
        for panel in _panels(d):
            for link in panel.get("links", []):
                if link["url"].startswith("/d/"):
                    uid = link["url"].removeprefix("/d/").split("?")[0]
                    assert uid in UIDS.values(), f"{panel['title']} links to unknown {uid}"
                else:
                    assert link["url"] in runbooks, f"{panel['title']} links to unknown runbook"
                    linked_runbooks.add(link["url"])
    assert len(linked_runbooks) >= 10


def test_heatmaps_read_prometheus_buckets_without_rebucketing(dashboards: list[dict[str, Any]]) -> None:
    heatmaps = [p for d in dashboards for p in _panels(d) if p["type"] == "heatmap"]
    assert heatmaps
    for panel in heatmaps:
        assert panel["options"]["calculate"] is False
        assert all(t["format"] == "heatmap" for t in panel["targets"])
        assert all("_bucket" in t["expr"] and "by (le)" in t["expr"] for t in panel["targets"])


def test_panels_sit_inside_the_grid_without_overlapping(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        cells: set[tuple[int, int]] = set()
        for panel in d["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= GRID_WIDTH
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, f"{d['uid']}: {panel['title']} overlaps"
                    cells.add((x, y))


def test_panel_ids_are_unique_per_dashboard(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        ids = [p["id"] for p in _panels(d)]
        assert len(ids) == len(set(ids))


def test_committed_json_is_valid_json() -> None:
    for path in (ROOT / JSON_DIR).glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


#: What Grafana substitutes for its variables, for parsing the queries outside Grafana.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__range": "1h",
    "$instance": ".*",
    "$operation": ".*",
}


def test_every_panel_query_is_valid_promql_for_promtool(
    dashboards: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Each query, with Grafana's variables filled in, parses as PromQL (checked by promtool)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: install Debian's 'prometheus' package")
    rules = []
    for d in dashboards:
        for i, (_, grafana_expr) in enumerate(_exprs(d)):
            expr = grafana_expr
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"unsubstituted variable in {expr!r}"
            rules.append({"record": f"dashboard:{d['uid'].replace('-', '_')}:q{i}", "expr": expr})
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_queries_do_not_filter_idle_series_away(dashboards: list[dict[str, Any]]) -> None:
    """A healthy, idle service must still show (zero) data: no ``> 0`` filters, top-k instead.

    The one exception is the heartbeat age, where 0 means "this process runs no worker".
    """
    for d in dashboards:
        for title, expr in _exprs(d):
            if "heartbeat" not in expr:
                assert "> 0" not in expr, f"{d['uid']}: {title} hides zero series"
