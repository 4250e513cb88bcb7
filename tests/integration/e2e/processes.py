"""csvbot's bot and worker as real child processes (``python -m service run|worker``).

Each process gets a hermetic environment (nothing inherited that csvbot's settings would read),
runs in its own folder (so no ``.env`` of the checkout is picked up) with its own ``TMPDIR``, and
writes stdout/stderr to files that a failing test prints. :meth:`ServiceProcess.stop` always ends
the process: SIGTERM, then SIGKILL if it has not exited within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

#: What a child needs from the parent's environment to run Python at all; nothing else leaks in.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT")
#: SIGTERM to exit: Telemetry.stop flushes spans (2 s) and logs (2 s); closing pools takes less.
STOP_GRACE_SECONDS = 10.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the metrics endpoint needs a known one to scrape)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """One ``python -m service <command>`` child. Start with :meth:`start`, always :meth:`stop`."""

    def __init__(self, name: str, command: str, workdir: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.command = command
        self.workdir = workdir
        self.log_file = workdir / "csvbot.log"
        self.metrics_port = free_port()
        self.stdout_path = workdir / "stdout.txt"
        self.stderr_path = workdir / "stderr.txt"
        tmp = workdir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        self.env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
        self.env.update(env)
        self.env.update(
            {
                "LOG_FILE": str(self.log_file),
                "METRICS_PORT": str(self.metrics_port),
                "WORKER_HEARTBEAT_FILE": str(workdir / "worker.heartbeat"),
                "TMPDIR": str(tmp),
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "service",
                self.command,
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def wait_ready(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Poll ``/readyz`` (the container readiness probe) until 200; fail at once, with the
        process's stderr, if the process exits first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while True:
                if not self.running:
                    raise AssertionError(f"{self.name} exited while starting:\n{self.stderr_tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.metrics_url}/readyz") as response:
                        if response.status == 200:
                            return
                if loop.time() > deadline:
                    raise AssertionError(f"{self.name} not ready within {timeout} s:\n{self.stderr_tail()}")
                await asyncio.sleep(0.1)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    async def metric(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """One sample's value from the process's ``/metrics`` (``None`` if there is no such series)."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
            http.get(f"{self.metrics_url}/metrics") as response,
        ):
            text = await response.text()
        wanted = dict(labels or {})
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == wanted:
                    return float(sample.value)
        return None

    def pause(self) -> None:
        """SIGSTOP: the process holds its connections but does nothing until :meth:`resume`."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up, finish or acknowledge anything."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            self.kill()
            await self.proc.wait()

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no stderr)"
        return "\n".join(text.splitlines()[-lines:])

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON lines of LOG_FILE so far (a half-written last line is skipped)."""
        try:
            raw = self.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        lines = []
        for line in raw:
            with contextlib.suppress(json.JSONDecodeError):
                lines.append(json.loads(line))
        return lines
