"""A real Prometheus (the Debian package's ``/usr/bin/prometheus``) for the live tests.

Each server gets a temporary config and TSDB: it scrapes one csvbot target every second under the
``job`` label the alert rules watch, and evaluates the rule files it is given every second. The
HTTP API is read with httpx; nothing here interprets PromQL itself.
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import socket
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

#: Where Debian's ``prometheus`` package installs the server (scripts/test installs it).
DEBIAN_PROMETHEUS = Path("/usr/bin/prometheus")
#: One scrape and one rule evaluation per second: the fast rule copy's windows are 5 s and up.
SCRAPE_INTERVAL = "1s"
#: A cold start (TSDB creation, rule loading) takes about a second; 30 s means it is broken.
READY_TIMEOUT_SECONDS = 30.0
STOP_GRACE_SECONDS = 10.0


def prometheus_binary() -> Path:
    """The ``prometheus`` executable; an AssertionError (never a skip) when it is not installed."""
    found = shutil.which("prometheus")
    path = Path(found) if found else DEBIAN_PROMETHEUS
    assert path.is_file(), (
        "the live tests need a real Prometheus: install Debian's `prometheus` package "
        "(./scripts/test does) so that /usr/bin/prometheus exists"
    )
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape_config(
    job: str, target: str, rule_files: Sequence[Path], alertmanager: str | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_INTERVAL,
            "evaluation_interval": SCRAPE_INTERVAL,
        },
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}],
    }
    if alertmanager is not None:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    return config


class PrometheusServer:
    """One Prometheus process. :meth:`start` waits until it is ready; always :meth:`stop` it."""

    def __init__(
        self,
        binary: Path,
        workdir: Path,
        *,
        job: str,
        target: str,
        rule_files: Sequence[Path],
        alertmanager: str | None = None,
    ):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = workdir / "prometheus.yml"
        self.log_path = workdir / "prometheus.log"
        config = scrape_config(job, target, rule_files, alertmanager)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=True))
        self._process: asyncio.subprocess.Process | None = None
        self._client = httpx.AsyncClient(base_url=self.url, timeout=10.0)

    async def start(self) -> None:
        with self.log_path.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                str(self.binary),
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--enable-feature=exemplar-storage",
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise AssertionError(f"prometheus exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                if (await self._client.get("/-/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"prometheus was not ready within {READY_TIMEOUT_SECONDS:g}s:\n{self.log_tail()}"
        )

    async def stop(self) -> None:
        await self._client.aclose()
        proc, self._process = self._process, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no prometheus log>"

    # --- HTTP API ------------------------------------------------------------------------------

    async def _get(self, path: str, **params: Any) -> Any:
        response = await self._client.get(path, params=params)
        body = response.json()
        assert body.get("status") == "success", f"{path} {params}: {body}"
        return body["data"]

    async def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query's vector (a scalar comes back as one unlabelled sample)."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        data = await self._get("/api/v1/query", **params)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    async def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = await self._get("/api/v1/query_range", query=expr, start=start, end=end, step=step)
        return list(data["result"])

    async def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (pending and firing) with their rendered annotations."""
        return list((await self._get("/api/v1/alerts"))["alerts"])

    async def rule_groups(self) -> list[dict[str, Any]]:
        return list((await self._get("/api/v1/rules"))["groups"])

    async def active_targets(self) -> list[dict[str, Any]]:
        return list((await self._get("/api/v1/targets", state="active"))["activeTargets"])

    async def label_values(self, label: str, match: str, start: float | None = None) -> list[str]:
        """Values of ``label`` on series matching ``match`` (since ``start``, else recently)."""
        params: dict[str, Any] = {"match[]": match}
        if start is not None:
            params["start"] = start
        return list(await self._get(f"/api/v1/label/{label}/values", **params))


def parse_timestamp(text: str) -> float:
    """Seconds since the epoch of an API timestamp (RFC 3339 with nanoseconds, ``Z``)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp()


def sample_values(result: list[dict[str, Any]]) -> list[float]:
    """Every sample value of an instant or range query result, as floats (NaN included)."""
    values: list[float] = []
    for series in result:
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        values.extend(float(v) for _, v in points)
    return values


def finite(values: list[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]
