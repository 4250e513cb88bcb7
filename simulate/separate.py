"""``--separate-driver``: the service in processes of its own, the load and the stand-ins in this one.

In the default mode the simulated users, the Telegram emulator, the bot and the in-process worker
share one process, so a capacity search measures the load generator as much as the service. Here
this process keeps the users, the Telegram emulator and (for storage faults) the Storage test
server, and the service runs as ``csvbot run`` — plus ``csvbot worker`` processes with
``REDIS_URL`` — exactly as deployed, so the bot's cores are the bot's. The report reads the
service's own metrics by scraping each process's ``/metrics`` endpoint.

``command`` replaces ``csvbot run`` (the bare aiogram peer in ``bench/bare_bot.py``); such a
process has no metrics endpoint, and the report then carries the users' side only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from emulators.supabase_storage import SupabaseStorageServer
from emulators.supabase_storage.faults import Fault
from emulators.telegram import TelegramEmulator, TranscriptEntry
from service.config import Settings
from simulate.driver import ChatWatcher
from simulate.harness import REPLY_METHODS, _settings_env
from simulate.scenarios import Scenario
from simulate.scrape import Endpoints

#: How long a service process may take to answer its first /start (imports, migrations, pool).
START_TIMEOUT_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _after(seq: int, entry: TranscriptEntry) -> bool:
    return entry.seq > seq


class ScrapedRegistry:
    """The families scraped from several processes, merged by name: a registry for the report."""

    def __init__(self, families: Sequence[Metric] = ()) -> None:
        self._families = list(families)

    def collect(self) -> list[Metric]:
        return self._families

    def get_sample_value(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        total, found = 0.0, False
        for family in self._families:
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()):
                    total, found = total + sample.value, True
        return total if found else None

    @classmethod
    def merge(cls, texts: Sequence[str]) -> ScrapedRegistry:
        merged: dict[str, Metric] = {}
        samples: dict[str, list[Any]] = defaultdict(list)
        for text in texts:
            for family in text_string_to_metric_families(text):
                merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                samples[family.name].extend(family.samples)
        for name, family in merged.items():
            family.samples = samples[name]
        return cls(list(merged.values()))


class ScrapedMetrics:
    """What :class:`simulate.live.LiveStatus` reads (``.registry``), refreshed by :meth:`refresh`."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self.registry = ScrapedRegistry()

    async def refresh(self) -> None:
        if not self.urls:
            return
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            texts = []
            for url in self.urls:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url) as response:
                        texts.append(await response.text())
        if texts:
            self.registry = ScrapedRegistry.merge(texts)


class SeparateHarness:
    """Emulator (and Storage test server) here; ``csvbot run`` and workers as child processes."""

    def __init__(
        self,
        scenario: Scenario,
        base: Settings,
        *,
        seed: int,
        workers: int = 2,
        telemetry: str | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        self.scenario, self.base, self.seed = scenario, base, seed
        self.workers = workers
        self.telemetry = telemetry or base.telemetry
        self.command = list(command) if command else [sys.executable, "-m", "service", "run"]
        self._tmp = tempfile.TemporaryDirectory(prefix="csvbot-sim-")
        self.workdir = Path(self._tmp.name)
        self.emulator = TelegramEmulator(seed=seed, spill_dir=self.workdir / "telegram")
        self.storage_server: SupabaseStorageServer | None = None
        self.settings: Settings | None = None
        #: Role → process: ``bot`` and ``worker0``…; their CPU is what the saturation report reads.
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.metrics = ScrapedMetrics([])
        #: Where the csvbot processes serve /metrics (for the report and a scrape file).
        self.endpoints = Endpoints(bot=None, workers=())

    @property
    def has_service_metrics(self) -> bool:
        return bool(self.metrics.urls)

    async def __aenter__(self) -> SeparateHarness:
        await self.emulator.start()
        s = self.scenario
        overrides: dict[str, Any] = {
            "bot_token": SecretStr(self.emulator.token),
            "telegram_api_url": self.emulator.url,
            "webhook_url": None,
            "storage_timeout_seconds": s.storage_timeout,
            "storage_slow_seconds": min(s.storage_slow, s.storage_timeout),
            "flood_max_updates": 1_000,
            "metrics_host": "127.0.0.1",
            "telemetry": self.telemetry,
        }
        if not self.base.uses_postgres:
            overrides["sqlite_path"] = self.workdir / "csvbot.sqlite3"
        if s.session_limit is not None:
            overrides["supabase_session_limit"] = s.session_limit
        if s.faults.uses_storage_server:
            self.storage_server = SupabaseStorageServer(seed=self.seed, data_dir=self.workdir / "supabase")
            await self.storage_server.start()
            overrides["supabase_url"] = self.storage_server.url
            overrides["supabase_key"] = SecretStr(self.storage_server.key)
        elif not self.base.uses_supabase_storage:
            overrides["storage_dir"] = self.workdir / "storage"
        self.settings = self.base.model_copy(update=overrides)
        f = s.faults
        if f.telegram_429_rate:
            self.emulator.inject_rate_limit(
                REPLY_METHODS, retry_after=f.telegram_retry_after, probability=f.telegram_429_rate
            )
        if f.telegram_5xx_rate:
            self.emulator.inject_server_error(REPLY_METHODS, status=502, probability=f.telegram_5xx_rate)
        try:
            await self._start_processes()
            await self._wait_until_serving()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        if self.storage_server is not None:
            # As in-process: faults once the service is up (a start-up without storage is refused).
            plan = self.storage_server.faults
            if f.storage_hang_rate:
                plan.add(Fault.hang(probability=f.storage_hang_rate))
            if f.storage_error_rate:
                plan.add(Fault.error_status(503, probability=f.storage_error_rate))
            if f.storage_latency_median:
                p99 = max(f.storage_latency_p99, f.storage_latency_median)
                plan.add(Fault.latency_distribution(f.storage_latency_median, p99))
        return self

    async def _start_processes(self) -> None:
        assert self.settings is not None
        env = {**os.environ, **_settings_env(self.settings)}
        env.pop("LOG_FILE", None)
        urls = []
        bot_port: int | None = None
        worker_ports: list[int] = []
        roles = [("bot", self.command)]
        if self.settings.redis_url:
            roles += [
                (f"worker{i}", [sys.executable, "-m", "service", "worker"]) for i in range(self.workers)
            ]
        for role, argv in roles:
            port = free_port()
            env_role = {
                **env,
                "METRICS_PORT": str(port),
                "LOG_FILE": str(self.workdir / f"{role}.log"),
                "WORKER_HEARTBEAT_FILE": str(self.workdir / f"{role}.heartbeat"),
            }
            self.processes[role] = await asyncio.create_subprocess_exec(
                *argv, env=env_role, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            if argv[1:3] == ["-m", "service"]:
                urls.append(f"http://127.0.0.1:{port}/metrics")
                if role == "bot":
                    bot_port = port
                else:
                    worker_ports.append(port)
        self.metrics = ScrapedMetrics(urls)
        self.endpoints = Endpoints(bot=bot_port, workers=tuple(worker_ports))

    async def _wait_until_serving(self) -> None:
        """The bot is serving once it answers a /start (a probe user outside the workload)."""
        watcher = ChatWatcher(self.emulator)
        probe = self.emulator.create_user("probe").id
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for role, proc in self.processes.items():
                if proc.returncode is not None:
                    raise RuntimeError(f"the {role} process exited with status {proc.returncode} at start")
            sent = self.emulator.send_text(probe, "/help")
            if await watcher.wait(probe, functools.partial(_after, sent.seq), 5.0) is not None:
                await self.metrics.refresh()
                return
        raise RuntimeError(f"the bot did not answer within {START_TIMEOUT_SECONDS:.0f} s")

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for proc in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in self.processes.values():
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self.storage_server is not None:
            await self.storage_server.stop()
        await self.emulator.stop()
        self._tmp.cleanup()
