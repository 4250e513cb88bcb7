"""The committed rule files and promtool tests are exactly what the generator writes."""

from __future__ import annotations

from pathlib import Path

from alerts.generate import RULES_DIR, TESTS_DIR, write_all
from monitoring.generate import generate_all, stale_files

ROOT = Path(__file__).resolve().parents[3]


def _tree(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}


def test_committed_rules_and_promtool_tests_match_a_fresh_generation(tmp_path: Path) -> None:
    """Regenerating into an empty tree reproduces every committed file, and no stale file remains."""
    write_all(tmp_path)
    for sub in (RULES_DIR, TESTS_DIR):
        fresh, committed = _tree(tmp_path / sub), _tree(ROOT / sub)
        assert sorted(committed) == sorted(fresh), f"{sub}: run `csvbot generate` and commit"
        for name, text in fresh.items():
            assert committed[name] == text, f"{sub / name} is stale: run `csvbot generate` and commit"


def test_generation_is_deterministic(tmp_path: Path) -> None:
    """Two runs write byte-identical files (sorted keys, no timestamps)."""
    first = {p.name: p.read_bytes() for p in write_all(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in write_all(tmp_path / "b")}
    assert first == second


def test_check_mode_passes_on_the_committed_tree() -> None:
    """`csvbot generate --check` exits 0 when rules, promtool tests and dashboards are current."""
    assert generate_all(ROOT, check=True) == 0


def test_check_mode_reports_an_edited_file_without_rewriting_it(tmp_path: Path) -> None:
    """A hand edit to a generated file is caught, and --check leaves the file as it is."""
    generate_all(tmp_path)
    edited = tmp_path / RULES_DIR / "alerts.rules.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("severity: critical", "severity: info"))
    before = edited.read_text(encoding="utf-8")
    assert generate_all(tmp_path, check=True) == 1
    assert edited.read_text(encoding="utf-8") == before
    assert stale_files(tmp_path) == [RULES_DIR / "alerts.rules.yaml"]


def test_check_mode_reports_a_file_the_generator_no_longer_writes(tmp_path: Path) -> None:
    """A leftover file (e.g. of a deleted alert) counts as stale."""
    generate_all(tmp_path)
    (tmp_path / TESTS_DIR / "removed-alert.test.yaml").write_text("tests: []\n")
    assert stale_files(tmp_path) == [TESTS_DIR / "removed-alert.test.yaml"]
