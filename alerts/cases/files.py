"""The promtool test files: which cases go in which file, and the rule files they load."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from alerts.cases.model import Case
from alerts.cases.recording import recording_cases_by_step
from alerts.cases.runtime import runtime_cases
from alerts.cases.service import service_cases
from alerts.cases.slo_burn import slo_cases
from alerts.cases.telegram import telegram_and_log_cases
from alerts.rules import ALERTS_FILE, RECORDING_FILE, rule_files
from alerts.timing import format_duration


class _Group(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


#: promtool test file name → the alert cases in it (evaluated every minute).
TEST_FILES: dict[str, Callable[[], list[Case]]] = {
    "service.test.yaml": service_cases,
    "runtime.test.yaml": runtime_cases,
    "slo.test.yaml": slo_cases,
    "telegram.test.yaml": telegram_and_log_cases,
}


def all_cases() -> list[Case]:
    return [case for build in TEST_FILES.values() for case in build()]


def all_test_files() -> dict[str, tuple[str, Sequence[_Group]]]:
    """File name → (evaluation interval, test groups): the alert files, then one recording-rule
    file per sample step (a file evaluates its rules at one interval, and the long SLO windows
    are sampled coarsely so that their cases stay cheap)."""
    out: dict[str, tuple[str, Sequence[_Group]]] = {
        name: ("1m", build()) for name, build in TEST_FILES.items()
    }
    for step, cases in sorted(recording_cases_by_step().items()):
        interval = format_duration(step)
        name = "recording.test.yaml" if step == 60 else f"recording-{interval}.test.yaml"
        out[name] = (interval, cases)
    return out


def test_document(
    cases: Sequence[_Group], rules_dir_from_tests: str, evaluation_interval: str = "1m"
) -> dict[str, Any]:
    """A promtool test file; rule paths are relative to the test file, as promtool reads them."""
    # Without an order promtool evaluates the groups in a random order at each step, so an alert
    # sees its recorded input from this step or the one before: recording groups go first.
    order = [g.name for name in (RECORDING_FILE, ALERTS_FILE) for g in rule_files()[name]]
    return {
        "rule_files": [f"{rules_dir_from_tests}/{RECORDING_FILE}", f"{rules_dir_from_tests}/{ALERTS_FILE}"],
        "evaluation_interval": evaluation_interval,
        "group_eval_order": order,
        "tests": [case.to_dict() for case in cases],
    }
