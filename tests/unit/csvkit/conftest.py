from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def in_dir(tmp_path: Path) -> Path:
    path = tmp_path / "in"
    path.mkdir()
    return path


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where outputs go; tests assert on everything left in it, so it starts empty."""
    path = tmp_path / "out"
    path.mkdir()
    return path
