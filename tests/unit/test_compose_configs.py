"""The stack's config files, checked by their own tools where they exist here.

Prometheus and Alertmanager are validated by promtool and amtool (Debian packages). No
OpenTelemetry Collector binary is packaged for pip, npm or Debian, so its config is checked
structurally: every pipeline component is defined, every defined one is used, and the addresses
match the compose services.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from promlib.names import SCRAPE_JOBS
from tests.unit.test_compose_support import ROOT, load_yaml, rendered_compose


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install Debian's 'prometheus' / 'prometheus-alertmanager'")
    return path


def test_promtool_accepts_the_prometheus_config_with_the_mounted_rules(tmp_path: Path) -> None:
    """Laid out as in the container (rules/ beside prometheus.yml), config and rules both check."""
    shutil.copy(ROOT / "deploy/prometheus/prometheus.yml", tmp_path / "prometheus.yml")
    (tmp_path / "rules").symlink_to(ROOT / "alerts/prometheus")
    result = subprocess.run(
        [_tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout


def test_prometheus_scrapes_the_jobs_the_alerts_watch_and_sends_to_alertmanager() -> None:
    config = load_yaml("deploy/prometheus/prometheus.yml")
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert set(SCRAPE_JOBS) <= jobs
    (manager,) = config["alerting"]["alertmanagers"]
    assert manager["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert "alertmanager" in rendered_compose()["services"]


def test_amtool_accepts_the_alertmanager_config() -> None:
    result = subprocess.run(
        [_tool("amtool"), "check-config", str(ROOT / "deploy/alertmanager/alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_datasources_match_the_dashboards_and_link_exemplars_to_traces() -> None:
    sources = {
        d["uid"]: d for d in load_yaml("deploy/grafana/provisioning/datasources/csvbot.yaml")["datasources"]
    }
    prometheus, jaeger = sources["prometheus"], sources["jaeger"]
    assert prometheus["type"] == "prometheus" and prometheus["isDefault"] is True
    assert prometheus["url"] == "http://prometheus:9090"
    scrape_interval = load_yaml("deploy/prometheus/prometheus.yml")["global"]["scrape_interval"]
    assert prometheus["jsonData"]["timeInterval"] == scrape_interval
    (destination,) = prometheus["jsonData"]["exemplarTraceIdDestinations"]
    assert destination == {"name": "trace_id", "datasourceUid": "jaeger"}
    assert jaeger["type"] == "jaeger"
    assert jaeger["url"].startswith("http://jaeger:")


def test_collector_pipelines_use_only_defined_components_and_use_all_of_them() -> None:
    config = load_yaml("telemetry/otel-collector.yaml")
    service = config["service"]
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for name, pipeline in service["pipelines"].items():
        assert name.split("/")[0] in {"traces", "metrics", "logs"}, name
        for kind, seen in used.items():
            assert pipeline.get(kind) or kind == "processors", f"pipeline {name} has no {kind}"
            for component in pipeline.get(kind, []):
                assert component in config[kind], f"{name} uses undefined {kind[:-1]} {component}"
                seen.add(component)
    for kind, names in used.items():
        assert set(config[kind]) == names, f"defined but unused {kind}: {set(config[kind]) - names}"
    assert set(service["extensions"]) == set(config["extensions"])
    assert "traces" in service["pipelines"]


def test_collector_receives_otlp_and_exports_traces_to_the_jaeger_service() -> None:
    config = load_yaml("telemetry/otel-collector.yaml")
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    exporters = config["service"]["pipelines"]["traces"]["exporters"]
    (exporter,) = (config["exporters"][e] for e in exporters)
    host, port = exporter["endpoint"].rsplit(":", 1)
    assert host in rendered_compose()["services"]
    assert port == "4317"  # Jaeger's OTLP/gRPC receiver
    assert config["processors"]["memory_limiter"]["limit_percentage"] < 100
    # The batch processor must come last, after the memory limiter (the collector's guidance).
    assert config["service"]["pipelines"]["traces"]["processors"] == ["memory_limiter", "batch"]
