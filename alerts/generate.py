"""Writing the rules and their promtool tests (``csvbot generate`` calls :func:`write_all`).

Layout it writes, relative to the repository root::

    alerts/prometheus/recording.rules.yaml   recording rules (Prometheus loads these)
    alerts/prometheus/alerts.rules.yaml      alerting rules
    alerts/promtool/*.test.yaml              promtool unit tests for every alert

The live test writes a fast copy of the rules elsewhere with ``generate_rules(dir, fast=True)``.
The dashboards are written by :mod:`dashboards.generate`; :mod:`monitoring.generate` joins both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alerts.cases.files import all_test_files, test_document
from alerts.rules import rule_files
from alerts.timing import FAST, PRODUCTION
from promlib.names import SCRAPE_JOBS
from promlib.render import to_yaml, write_text

RULES_DIR = Path("alerts/prometheus")
TESTS_DIR = Path("alerts/promtool")


def generate_rules(
    out_dir: Path, *, fast: bool = False, scrape_jobs: Sequence[str] = SCRAPE_JOBS
) -> list[Path]:
    """Write the rule files into ``out_dir``.

    ``fast=True`` writes the live-test copy: the same rules with every window and ``for``
    divided by 60 (a minute becomes a second, 5 s minimum) and a 1 s evaluation interval.
    ``scrape_jobs`` are the ``job`` labels the target-down/absent alerts watch.
    """
    timing = FAST if fast else PRODUCTION
    source = "alerts/rules.py (fast test copy)" if fast else "alerts/rules.py"
    return [
        write_text(out_dir / name, to_yaml({"groups": [g.to_dict() for g in groups]}, source))
        for name, groups in rule_files(timing, scrape_jobs).items()
    ]


def generate_rule_tests(tests_dir: Path, rules_dir: Path) -> list[Path]:
    """Write the promtool test files into ``tests_dir``, loading the rules from ``rules_dir``."""
    relative = Path(os.path.relpath(rules_dir, tests_dir)).as_posix()
    return [
        write_text(tests_dir / name, to_yaml(test_document(cases, relative, interval), "alerts/cases"))
        for name, (interval, cases) in all_test_files().items()
    ]


def write_all(root: Path) -> list[Path]:
    """Write the committed rules and their promtool tests under ``root``."""
    rules_dir = root / RULES_DIR
    tests_dir = root / TESTS_DIR
    return [*generate_rules(rules_dir), *generate_rule_tests(tests_dir, rules_dir)]
