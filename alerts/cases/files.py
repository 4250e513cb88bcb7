"""The promtool test files: which cases go in which file, and the rule files they load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alerts.cases.model import Case
from alerts.cases.runtime import runtime_cases
from alerts.cases.service import service_cases
from alerts.cases.slo_burn import slo_cases
from alerts.rules import ALERTS_FILE, RECORDING_FILE

#: promtool test file name → the cases in it.
TEST_FILES: dict[str, Callable[[], list[Case]]] = {
    "service.test.yaml": service_cases,
    "runtime.test.yaml": runtime_cases,
    "slo.test.yaml": slo_cases,
}


def all_cases() -> list[Case]:
    return [case for build in TEST_FILES.values() for case in build()]


def test_document(cases: list[Case], rules_dir_from_tests: str) -> dict[str, Any]:
    """A promtool test file; rule paths are relative to the test file, as promtool reads them."""
    return {
        "rule_files": [f"{rules_dir_from_tests}/{RECORDING_FILE}", f"{rules_dir_from_tests}/{ALERTS_FILE}"],
        "evaluation_interval": "1m",
        "tests": [case.to_dict() for case in cases],
    }
