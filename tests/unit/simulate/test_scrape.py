"""Simulated processes are findable: known worker ports and a scrape file Prometheus accepts."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from promlib.names import BOT_JOB, WORKER_JOB
from simulate.scrape import Endpoints, worker_ports, write_scrape_file


def _free_run_of_ports(n: int) -> int:
    """A port p such that p .. p+n are free now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n < 65536 and all(_free(base + i) for i in range(n + 1)):
            return int(base)
    pytest.fail("no run of free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_workers_get_the_ports_after_the_bots() -> None:
    base = _free_run_of_ports(2)
    assert worker_ports(base, 2) == [base + 1, base + 2]


def test_a_taken_port_is_replaced_by_a_free_one() -> None:
    base = _free_run_of_ports(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 1))
        taken.listen()
        ports = worker_ports(base, 2)
    assert ports[0] != base + 1 and ports[1] == base + 2
    assert len(set(ports)) == 2 and base not in ports


def test_the_scrape_file_scrapes_bot_and_workers_and_promtool_accepts_it(tmp_path: Path) -> None:
    endpoints = Endpoints(bot=9464, workers=[9465, 9466])
    path = write_scrape_file(tmp_path / "sim.prometheus.yml", endpoints)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    jobs = {c["job_name"]: c["static_configs"][0]["targets"] for c in doc["scrape_configs"]}
    assert jobs == {BOT_JOB: ["127.0.0.1:9464"], WORKER_JOB: ["127.0.0.1:9465", "127.0.0.1:9466"]}
    assert endpoints.to_json()[WORKER_JOB] == [
        "http://127.0.0.1:9465/metrics",
        "http://127.0.0.1:9466/metrics",
    ]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: install Debian's 'prometheus' package")
    result = subprocess.run(
        [promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_the_job_names_are_the_ones_the_alerts_watch() -> None:
    from simulate import scrape

    assert (scrape.BOT_JOB, scrape.WORKER_JOB) == (BOT_JOB, WORKER_JOB)
