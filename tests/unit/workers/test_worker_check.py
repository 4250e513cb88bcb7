"""`csvbot worker --check`: healthy only while the worker's heartbeat file is fresh."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from service.config import load_settings
from service.workers.main import check_worker
from telemetry import slo


def _settings(path: Path):
    return load_settings({"WORKER_HEARTBEAT_FILE": str(path)}, env_file=None)


def test_no_heartbeat_file_is_unhealthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_worker(_settings(tmp_path / "hb")) == 1
    assert "no heartbeat file" in capsys.readouterr().err


def test_a_fresh_heartbeat_is_healthy(tmp_path: Path) -> None:
    path = tmp_path / "hb"
    path.touch()
    assert check_worker(_settings(path)) == 0


def test_a_stale_heartbeat_is_unhealthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hb"
    path.touch()
    old = time.time() - slo.WORKER_HEARTBEAT_STALE_SECONDS - 5
    os.utime(path, (old, old))
    assert check_worker(_settings(path)) == 1
    assert "last heartbeat" in capsys.readouterr().err


def _heartbeat(path: Path, **status: object) -> None:
    path.write_text(json.dumps({"at": time.time(), **status}))


def test_a_worker_that_cannot_read_tasks_for_too_long_is_unhealthy_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hb"
    since = time.time() - slo.WORKER_HEARTBEAT_STALE_SECONDS - 5
    _heartbeat(path, consuming=False, reason="no_group", since=since)
    assert check_worker(_settings(path)) == 1
    assert "cannot read tasks from the broker (no_group)" in capsys.readouterr().err


def test_a_brief_broker_blip_is_not_yet_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "hb"
    _heartbeat(path, consuming=False, reason="connection", since=time.time() - 2)
    assert check_worker(_settings(path)) == 0
    _heartbeat(path, consuming=True, reason=None, since=time.time() - 3600)
    assert check_worker(_settings(path)) == 0
