"""``csvbot simulate`` after a failed start-up exits with status 2 and the reason — it used to
print the reason and then hang forever (a SQLite worker thread kept the interpreter alive)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_simulate_with_unreachable_storage_exits_2_instead_of_hanging(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        {
            "SUPABASE_URL": "http://127.0.0.1:1",
            "SUPABASE_KEY": "x",
            "STORAGE_TIMEOUT_SECONDS": "2",
            "STORAGE_SLOW_SECONDS": "1",
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "service", "simulate", "--duration", "2", "--metrics-port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "SUPABASE_URL" in done.stderr
