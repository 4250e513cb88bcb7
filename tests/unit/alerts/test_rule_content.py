"""What every rule must carry, and that rules only query series the service really exports."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry

from alerts.rules import alert_names, all_alerts, recorded_names, rule_files
from alerts.timing import FAST, PRODUCTION, parse_duration
from promlib import names
from promlib.promql import metric_names
from promlib.runbooks import RUNBOOK_DOCUMENT, anchor
from telemetry.metrics import Metrics


@pytest.fixture(scope="module")
def exported_series() -> set[str]:
    """Every sample name a csvbot process exposes, plus Prometheus' own ``up``."""
    registry = CollectorRegistry()
    Metrics(registry)
    return {s.name for family in registry.collect() for s in family.samples} | {"up"}


def _exprs() -> list[str]:
    return [r.expr for groups in rule_files().values() for g in groups for r in g.rules]


def test_every_alert_has_severity_summary_description_with_value_and_runbook() -> None:
    for rule in all_alerts():
        data = rule.to_dict()
        assert data["labels"]["severity"] in {"critical", "warning"}, rule.alert
        annotations = data["annotations"]
        assert annotations["summary"].strip(), rule.alert
        assert "{{ $value" in annotations["description"], f"{rule.alert}: description lacks the live value"
        assert annotations["runbook_url"] == f"{RUNBOOK_DOCUMENT}#{anchor(rule.alert)}"


def test_runbook_anchors_are_distinct_per_alert() -> None:
    anchors = [anchor(a) for a in alert_names()]
    assert len(anchors) == len(set(anchors))
    assert all(re.fullmatch(r"[a-z0-9-]+", a) for a in anchors)


def test_rules_query_only_series_the_service_registers(exported_series: set[str]) -> None:
    """Parsed out of every expression: a raw metric name must be exported, a recorded one recorded."""
    recorded = recorded_names()
    for expr in _exprs():
        for name in metric_names(expr):
            known = name in recorded if ":" in name else name in exported_series
            assert known, f"{name!r} in rule {expr!r} is neither exported nor recorded"


def test_le_bounds_in_rules_exist_in_the_exported_histograms(exported_series: set[str]) -> None:
    """An SLO's ``le="…"`` must be a real bucket, or the good-event count is always 0."""
    registry = CollectorRegistry()
    Metrics(registry)
    bounds = {(s.name, s.labels["le"]) for fam in registry.collect() for s in fam.samples if "le" in s.labels}
    found = 0
    for expr in _exprs():
        for metric, le in re.findall(r'(\w+_bucket)\{[^}]*le="([^"]+)"', expr):
            found += 1
            assert (metric, le) in bounds, f'{metric}{{le="{le}"}} is not a bucket the service exports'
    assert found, "expected the SLO rules to select buckets by le"


def test_recorded_series_used_by_alerts_are_recorded() -> None:
    recorded = recorded_names()
    for rule in all_alerts():
        for name in metric_names(rule.expr):
            if ":" in name:
                assert name in recorded, f"{rule.alert} uses unrecorded {name}"


def test_the_metric_name_parser_sees_suffixes_and_recordings_but_not_functions() -> None:
    expr = (
        'sum by (le) (rate(csvbot_x_bucket{a="b", le="1.0"}[5m])) / ignoring(x) '
        'csvbot:y:ratio_rate5m > 0.5 and on () absent(up{job="j"}) offset 5m'
    )
    assert metric_names(expr) == {"csvbot_x_bucket", "csvbot:y:ratio_rate5m", "up"}


def test_fast_copy_keeps_rule_names_and_shortens_every_window_and_for() -> None:
    """The live-test copy differs only in durations, and each is shorter than production's."""
    slow = [r for groups in rule_files(PRODUCTION).values() for g in groups for r in g.rules]
    fast = [r for groups in rule_files(FAST).values() for g in groups for r in g.rules]
    assert [type(r) for r in slow] == [type(r) for r in fast]
    for s, f in zip(slow, fast, strict=True):
        sd, fd = s.to_dict(), f.to_dict()
        assert sd.get("alert", sd.get("record")) == fd.get("alert", fd.get("record"))
        slow_windows = re.findall(r"\[(\w+)\]", s.expr)
        fast_windows = re.findall(r"\[(\w+)\]", f.expr)
        assert len(slow_windows) == len(fast_windows)
        for a, b in zip(slow_windows, fast_windows, strict=True):
            assert parse_duration(b) < parse_duration(a)
        if "for" in sd:
            fast_for = parse_duration(fd["for"]) if "for" in fd else 0
            assert fast_for < parse_duration(sd["for"])


def test_target_alerts_watch_the_scrape_jobs_given() -> None:
    jobs = ("sim-bot",)
    exprs = [r.expr for groups in rule_files(FAST, jobs).values() for g in groups for r in g.alerts]
    assert any('absent(up{job="sim-bot"})' in e for e in exprs)
    assert not any(names.WORKER_JOB in e for e in exprs)
