"""The README documents what the service really exposes: every metric and every alert's runbook."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import CollectorRegistry

from alerts.rules import alert_names
from service.config import Settings
from telemetry.metrics import Metrics

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_metric_is_in_the_metrics_table() -> None:
    registry = CollectorRegistry()
    Metrics(registry, process_metrics=False)
    for family in registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}`" in README, f"{name} is missing from the README's metrics table"


def test_every_alert_has_a_runbook_section() -> None:
    headings = set(re.findall(r"^#### (\w+)$", README, flags=re.MULTILINE))
    for name in alert_names():
        assert name in headings, f"alert {name} has no '#### {name}' runbook section"


def test_every_setting_is_in_the_configuration_table() -> None:
    table = README[README.index("## Configuration") : README.index("## Metrics")]
    for field in Settings.model_fields:
        assert field.upper() in table, f"{field.upper()} is missing from the configuration table"
