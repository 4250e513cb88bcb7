"""A real Alertmanager (Debian's ``prometheus-alertmanager``) for the live tuning tests.

It routes the tuning alerts to the bot's webhook receiver with the bearer token, exactly as
``deploy/alertmanager/alertmanager.yml`` does (route, receiver and inhibit rule are read from that
file), with the waits shortened to the fast copy's seconds.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.integration.live.prometheus_server import free_port

ROOT = Path(__file__).resolve().parents[3]
DEBIAN_ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
READY_TIMEOUT_SECONDS = 30.0


def alertmanager_binary() -> Path:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    path = Path(found) if found else DEBIAN_ALERTMANAGER
    assert path.is_file(), (
        "the live tuning tests need a real Alertmanager: install Debian's `prometheus-alertmanager` "
        "package (./scripts/test does)"
    )
    return path


def fast_config(webhook_url: str, token_file: Path) -> dict[str, Any]:
    """The committed config with the bot's address and waits of a second."""
    config: dict[str, Any] = yaml.safe_load((ROOT / "deploy/alertmanager/alertmanager.yml").read_text())
    route = config["route"]
    route.update(group_wait="1s", group_interval="1s", repeat_interval="1m")
    for sub in route["routes"]:
        sub.update(group_wait="1s", group_interval="1s")
        sub.setdefault("repeat_interval", "1m")
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = webhook_url
            hook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    return config


class AlertmanagerServer:
    def __init__(self, binary: Path, workdir: Path, *, webhook_url: str, token: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        token_file = workdir / "token"
        token_file.write_text(token)
        self.config_path = workdir / "alertmanager.yml"
        self.config_path.write_text(yaml.safe_dump(fast_config(webhook_url, token_file), sort_keys=True))
        self.log_path = workdir / "alertmanager.log"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                str(self.binary),
                f"--config.file={self.config_path}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self._process.returncode is not None:
                    raise AssertionError(f"alertmanager exited:\n{self.log_tail()}")
                try:
                    if (await client.get(f"{self.url}/-/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"alertmanager not ready within {READY_TIMEOUT_SECONDS:g}s:\n{self.log_tail()}")

    async def stop(self) -> None:
        proc, self._process = self._process, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no alertmanager log>"
