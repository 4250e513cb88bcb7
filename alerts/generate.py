"""Entry points of the generator: `csvbot generate` calls :func:`generate`.

Layout it writes, relative to the repository root::

    alerts/prometheus/recording.rules.yaml   recording rules (Prometheus loads these)
    alerts/prometheus/alerts.rules.yaml      alerting rules
    alerts/promtool/*.test.yaml              promtool unit tests for every alert
    dashboards/json/*.json                   Grafana dashboards (see dashboards.generate)

The live test writes a fast copy of the rules elsewhere with ``generate_rules(dir, fast=True)``.
``csvbot generate --check`` (:func:`generate_all` with ``check=True``) writes nothing and fails
when a committed file differs from what the generator would write.
"""

from __future__ import annotations

import filecmp
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from alerts.cases.files import TEST_FILES, test_document
from alerts.names import SCRAPE_JOBS
from alerts.render import to_yaml, write_text
from alerts.rules import rule_files
from alerts.timing import FAST, PRODUCTION

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
        write_text(tests_dir / name, to_yaml(test_document(build(), relative), "alerts/cases"))
        for name, build in TEST_FILES.items()
    ]


def write_all(root: Path) -> list[Path]:
    """Write the committed rules and their promtool tests under ``root``."""
    rules_dir = root / RULES_DIR
    tests_dir = root / TESTS_DIR
    return [*generate_rules(rules_dir), *generate_rule_tests(tests_dir, rules_dir)]


def generate(root: Path) -> list[Path]:
    """Write every generated artifact (rules, promtool tests, dashboards) under ``root``."""
    from dashboards.generate import write_all as write_dashboards

    return [*write_all(root), *write_dashboards(root)]


def stale_files(root: Path) -> list[Path]:
    """Generated files under ``root`` that are missing, different, or no longer generated."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh_root = Path(scratch)
        fresh = [p.relative_to(fresh_root) for p in generate(fresh_root)]
        stale = [
            p
            for p in fresh
            if not (root / p).is_file() or not filecmp.cmp(fresh_root / p, root / p, shallow=False)
        ]
    generated_dirs = {p.parent for p in fresh}
    leftovers = [
        p.relative_to(root)
        for d in sorted(generated_dirs)
        for p in sorted((root / d).glob("*"))
        if p.is_file() and p.suffix in {".yaml", ".json"} and p.relative_to(root) not in fresh
    ]
    return stale + leftovers


def generate_all(root: Path, *, check: bool = False) -> int:
    """``csvbot generate``: write every artifact, or with ``check`` only report stale ones.

    Returns the process exit status: 0, or 1 when ``check`` finds stale files.
    """
    if check:
        stale = stale_files(root)
        for path in stale:
            print(f"stale: {path} (run `csvbot generate` and commit)", file=sys.stderr)
        return 1 if stale else 0
    for path in generate(root):
        print(path.relative_to(root) if path.is_relative_to(root) else path)
    return 0
