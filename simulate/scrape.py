"""Where a simulation's processes serve ``/metrics``, and a Prometheus scrape file for them.

Worker processes started by ``csvbot simulate`` (with ``REDIS_URL``) get known ports: the bot's
metrics port plus 1, 2, … when those are free, otherwise any free port. The ports are printed at
start and written to the report, and :func:`write_scrape_file` writes a ready-made
``prometheus.yml`` that scrapes the bot and every worker under the production job names and loads
the committed alert rules, so ``prometheus --config.file=<that file>`` watches the run.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: The scrape job names of deploy/prometheus/prometheus.yml, which the alert rules watch
#: (promlib.names holds the same; simulate may not import the monitoring packages).
BOT_JOB = "csvbot-bot"
WORKER_JOB = "csvbot-worker"

#: The committed rules (relative to the repository root), loaded by the scrape file.
RULES_DIR = Path(__file__).resolve().parents[1] / "alerts" / "prometheus"
#: Short enough that the fast alert copy and a one-minute run show movement.
SCRAPE_INTERVAL = "5s"


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _any_free() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_ports(bot_port: int | None, workers: int) -> list[int]:
    """One metrics port per worker: ``bot_port + 1 + i`` when free, else a free one."""
    ports: list[int] = []
    for i in range(workers):
        wanted = bot_port + 1 + i if bot_port else 0
        port = wanted if wanted and wanted < 65536 and _is_free(wanted) else _any_free()
        while port in ports or port == bot_port:
            port = _any_free()
        ports.append(port)
    return ports


@dataclass(frozen=True)
class Endpoints:
    """The ``/metrics`` addresses of one simulation (``None``: that process serves none)."""

    bot: int | None
    workers: Sequence[int]

    def targets(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if self.bot:
            out[BOT_JOB] = [f"127.0.0.1:{self.bot}"]
        if self.workers:
            out[WORKER_JOB] = [f"127.0.0.1:{p}" for p in self.workers]
        return out

    def to_json(self) -> dict[str, Any]:
        return {job: [f"http://{t}/metrics" for t in targets] for job, targets in self.targets().items()}

    def describe(self) -> str:
        parts = [f"{job} {', '.join(targets)}" for job, targets in self.targets().items()]
        return "; ".join(parts) or "no /metrics endpoint (--metrics-port not set)"


def scrape_document(endpoints: Endpoints, rules_dir: Path = RULES_DIR) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(rules_dir / "*.rules.yaml")],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": targets}]}
            for job, targets in endpoints.targets().items()
        ],
    }


def write_scrape_file(path: Path, endpoints: Endpoints) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(scrape_document(endpoints), sort_keys=False), encoding="utf-8")
    return path
