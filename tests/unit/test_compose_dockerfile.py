"""The app image: slim Python 3.11, installed as a package, run as non-root, health-checked."""

from __future__ import annotations

import re

from tests.unit.test_compose_support import ROOT, rendered_compose

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_both_stages_build_on_python_3_11_slim() -> None:
    bases = [arg.split()[0] for op, arg in _instructions() if op == "FROM"]
    assert bases == ["python:3.11-slim", "python:3.11-slim"]


def test_the_project_is_pip_installed_not_run_from_source() -> None:
    runs = " ".join(arg for op, arg in _instructions() if op == "RUN")
    assert "pip wheel" in runs and "pip install" in runs and "csvbot" in runs


def test_the_final_stage_runs_as_a_non_root_user() -> None:
    final = _instructions()[[i for i, (op, _) in enumerate(_instructions()) if op == "FROM"][-1] :]
    users = [arg for op, arg in final if op == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_default_command_runs_the_bot_and_the_healthcheck_probes_metrics() -> None:
    ops = dict(_instructions())
    assert ops["CMD"] == '["csvbot", "run"]'
    assert "/metrics" in ops["HEALTHCHECK"] and "METRICS_PORT" in ops["HEALTHCHECK"]
    assert "METRICS_HOST=0.0.0.0" in ops["ENV"]


def test_compose_builds_this_image_for_bot_and_worker() -> None:
    services = rendered_compose()["services"]
    assert services["bot"]["command"] == ["csvbot", "run"]
    assert services["worker"]["command"] == ["csvbot", "worker"]
    for name in ("bot", "worker"):
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
        assert services[name]["build"]["context"] == str(ROOT)


def test_the_image_carries_the_product_packages_only() -> None:
    copied = {arg.split()[0] for op, arg in _instructions() if op == "COPY" and "--from" not in arg}
    assert copied == {"pyproject.toml", "service", "telemetry"}
