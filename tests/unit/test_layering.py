"""The layering rules of the top-level packages, read from the imports of every module.

Each package may import only the first-party packages listed for it (third-party and standard
library imports are free). Lazy imports inside functions count too: a rule that a deferred import
could dodge would be no rule. The README's "Layout" section states the same table.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: package → the first-party packages its modules may import (itself always allowed).
ALLOWED: dict[str, frozenset[str]] = {
    "telemetry": frozenset(),
    "service": frozenset({"telemetry"}),
    "promlib": frozenset({"telemetry"}),
    "alerts": frozenset({"telemetry", "promlib"}),
    "dashboards": frozenset({"telemetry", "promlib"}),
    "monitoring": frozenset({"telemetry", "promlib", "alerts", "dashboards"}),
    "emulators": frozenset(),
    "simulate": frozenset({"telemetry", "service", "emulators"}),
}
#: Also first-party, and imported by no package: the benchmarks (which may import any package but
#: the tests) and the tests (which may import anything).
TOOLS = frozenset({"bench", "tests"})
FIRST_PARTY = frozenset(ALLOWED) | TOOLS


def imported_packages(source: str) -> set[str]:
    """The top-level names of every absolute import in ``source``, wherever it stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def violations(root: Path) -> list[str]:
    problems = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for imported in sorted(imported_packages(path.read_text(encoding="utf-8")) & FIRST_PARTY):
                if imported != package and imported not in allowed:
                    problems.append(f"{path.relative_to(root)} imports {imported}")
    return problems


def test_every_package_imports_only_what_its_layer_allows() -> None:
    assert violations(ROOT) == []


def test_every_first_party_package_has_a_rule() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - TOOLS
    assert packages == set(ALLOWED)


def _readme_layout() -> dict[str, frozenset[str]]:
    """The README's "Layout" table: package → the packages it says it may import."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Layout", 1)[1].split("\n## ", 1)[0]
    table: dict[str, frozenset[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith("/`"):
            names = {word.strip("`, ") for word in cells[2].split()} - {"nothing", "of", "ours", "but", "and"}
            table[cells[0].strip("`/")] = frozenset(names)
    return table


def test_the_readme_layout_table_states_these_rules() -> None:
    readme = _readme_layout()
    assert {name: readme.get(name) for name in ALLOWED} == ALLOWED
    assert set(readme) >= TOOLS, "the README's table lists bench/ and tests/ too"


@pytest.mark.parametrize(
    ("package", "source", "offender"),
    [
        ("telemetry", "from service.config import Settings\n", "service"),
        ("service", "def f():\n    import simulate.command\n", "simulate"),
        ("service", "from emulators.telegram import TelegramEmulator\n", "emulators"),
        ("alerts", "from dashboards import overview\n", "dashboards"),
        ("dashboards", "import alerts.rules\n", "alerts"),
        ("service", "from tests.integration.e2e.polling import eventually\n", "tests"),
        ("simulate", "import bench.bare_bot\n", "bench"),
    ],
)
def test_a_forbidden_import_is_reported(tmp_path: Path, package: str, source: str, offender: str) -> None:
    (tmp_path / package).mkdir()
    (tmp_path / package / "module.py").write_text(source)
    assert violations(tmp_path) == [f"{package}/module.py imports {offender}"]


def test_relative_and_allowed_imports_are_not_reported(tmp_path: Path) -> None:
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "module.py").write_text(
        "from . import rules\nfrom promlib import names\nimport yaml\n"
    )
    assert violations(tmp_path) == []
