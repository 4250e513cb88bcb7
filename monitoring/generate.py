"""``csvbot generate``: write every generated artifact, or check that the committed ones are fresh.

``csvbot generate --check`` (:func:`generate_all` with ``check=True``) writes nothing and fails
when a committed file differs from what the generators would write, or is no longer generated.
"""

from __future__ import annotations

import filecmp
import sys
import tempfile
from pathlib import Path

from alerts.generate import write_all as write_rules
from dashboards.generate import write_all as write_dashboards


def generate(root: Path) -> list[Path]:
    """Write every generated artifact (rules, promtool tests, dashboards) under ``root``."""
    return [*write_rules(root), *write_dashboards(root)]


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
