"""Real promtool (Debian's prometheus package) checks and unit-tests the committed rules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from alerts.generate import RULES_DIR, TESTS_DIR, generate_rules
from alerts.rules import alert_names, recorded_names
from promlib.promql import metric_names

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's 'prometheus' package")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # The case files evaluate every rule at each step of ~100 groups: tens of CPU-seconds.
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)


def _test_groups() -> list[dict]:
    groups: list[dict] = []
    for path in sorted((ROOT / TESTS_DIR).glob("*.test.yaml")):
        groups += yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
    return groups


def test_promtool_check_rules_accepts_the_committed_rules(promtool: str) -> None:
    """`promtool check rules` parses every rule and finds no duplicate (its lint)."""
    files = sorted(str(p) for p in (ROOT / RULES_DIR).glob("*.rules.yaml"))
    result = _run(promtool, "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass(promtool: str) -> None:
    """Every fires/does-not-fire case holds, annotations included, under real Prometheus."""
    files = sorted(str(p) for p in (ROOT / TESTS_DIR).glob("*.test.yaml"))
    assert files
    result = _run(promtool, "test", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_rules_accepts_the_fast_test_copy(promtool: str, tmp_path: Path) -> None:
    """The shortened copy for the live test is valid too."""
    files = [str(p) for p in generate_rules(tmp_path, fast=True)]
    result = _run(promtool, "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_fires_case_and_a_does_not_fire_case() -> None:
    """Cases come in pairs per alert, named '<alert> fires when …' / '<alert> does not fire when …'.

    A "fires" case may check earlier times at which nothing fires yet (the ``for`` boundary);
    its last check is the one that fires."""
    fires: set[str] = set()
    quiet: set[str] = set()
    for group in _test_groups():
        if "alert_rule_test" not in group:
            assert group["promql_expr_test"], f"{group['name']!r} checks nothing"
            continue
        *before, test = group["alert_rule_test"]
        name, alertname, expected = group["name"], test["alertname"], test["exp_alerts"]
        assert all(b["alertname"] == alertname and b["exp_alerts"] == [] for b in before), name
        if name.startswith(f"{alertname} fires when "):
            assert expected, f"{name!r} expects no alert"
            fires.add(alertname)
        elif name.startswith(f"{alertname} does not fire when "):
            assert expected == [] and not before, f"{name!r} expects alerts"
            quiet.add(alertname)
        else:
            pytest.fail(f"case {name!r} is not named '<alert> fires|does not fire when …'")
    for alert in alert_names():
        assert alert in fires, f"{alert} has no 'fires when' promtool case"
        assert alert in quiet, f"{alert} has no 'does not fire when' promtool case"


def test_every_recording_rule_has_a_case() -> None:
    """Each recorded series is checked by value in a promql_expr_test of its own."""
    checked = {
        name
        for group in _test_groups()
        for test in group.get("promql_expr_test", [])
        for name in metric_names(test["expr"])
    }
    assert recorded_names() <= checked, sorted(recorded_names() - checked)


def test_promtool_rejects_a_case_whose_expectation_is_wrong(promtool: str, tmp_path: Path) -> None:
    """The unit tests can fail: flipping one expected label makes promtool report a mismatch."""
    source = ROOT / TESTS_DIR / "service.test.yaml"
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    doc["rule_files"] = [str((source.parent / f).resolve()) for f in doc["rule_files"]]
    firing = next(g for g in doc["tests"] if g["alert_rule_test"][-1]["exp_alerts"])
    firing["alert_rule_test"][-1]["exp_alerts"][0]["exp_labels"]["severity"] = "info"
    doc["tests"] = [firing]
    broken = tmp_path / "broken.test.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = _run(promtool, "test", "rules", str(broken))
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
