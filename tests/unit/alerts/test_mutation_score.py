"""The promtool cases catch mistakes in the rules: at least 95 % of the mutation sweep is killed."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.unit.alerts.mutants import (
    hold_mutants,
    matcher_mutants,
    sweep,
    threshold_mutants,
    window_mutants,
)

#: Share of mutants the cases must kill (issue: a weak case set caught 22 of 67).
MIN_SCORE = 0.95


def test_the_sweep_makes_each_kind_of_mutant() -> None:
    expr = 'sum(rate(x_total{level=~"warning|error", outcome!="failed"}[10m])) > 0.05'
    thresholds = {new for _, new in threshold_mutants(expr)}
    assert any("> 0.1" in t for t in thresholds) and any("> 0.025" in t for t in thresholds)
    assert {new for _, new in window_mutants(expr)} >= {
        expr.replace("[10m]", "[20m]"),
        expr.replace("[10m]", "[5m]"),
    }
    matchers = {new for _, new in matcher_mutants(expr)}
    assert 'x_total{level=~"error", outcome!="failed"}' in " ".join(matchers)  # narrowed
    assert 'level=~"warning|error|debug"' in " ".join(matchers)  # widened from the closed set
    assert 'outcome="ok"' in " ".join(matchers)  # != narrowed to one other value
    assert 'x_total{level=~"warning|error"}' in " ".join(matchers)  # a matcher removed
    assert [h for _, h in hold_mutants("10m")] == [None, "20m", "5m"]


@pytest.mark.timeout(600)
def test_at_least_95_percent_of_rule_mutants_fail_a_promtool_case() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: install Debian's 'prometheus' package")
    started = time.monotonic()
    score = sweep(promtool)
    print(f"{score.report()}\n{score.total} mutants in {time.monotonic() - started:.1f}s")
    assert score.total > 100, "the sweep found too few mutants to mean anything"
    assert score.ratio >= MIN_SCORE, score.report()
