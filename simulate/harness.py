"""Start the real service for a simulation: emulator, optional storage test server, bot, workers.

Everything runs on 127.0.0.1. Settings are the operator's, with the Telegram side pointed at the
built-in emulator; unset cloud settings keep the embedded defaults (SQLite and local storage in a
temporary folder, in-process worker). Storage faults need the Supabase Storage test server, so a
scenario with storage faults uses the Supabase backend against it. With ``REDIS_URL`` set, worker
processes are started (``csvbot worker``) against the same emulator, database and storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import SecretStr

from emulators.supabase_storage import SupabaseStorageServer
from emulators.supabase_storage.faults import Fault
from emulators.telegram import TelegramEmulator
from service.app import BotApp
from service.config import Settings
from service.runtime import Telemetry
from simulate.latency_db import ModelledOpener
from simulate.scenarios import Scenario
from simulate.scrape import Endpoints, worker_ports

#: Bot API methods that faults target: the replies users wait for (not long polling).
REPLY_METHODS = ("sendMessage", "editMessageText", "sendDocument")


class Harness:
    def __init__(
        self,
        scenario: Scenario,
        base: Settings,
        *,
        seed: int,
        metrics_port: int | None,
        workers: int = 2,
        log_to_stderr: bool = False,
    ) -> None:
        self.scenario = scenario
        self.base = base
        self.seed = seed
        self.metrics_port = metrics_port
        self.workers = workers
        self.log_to_stderr = log_to_stderr
        self._tmp = tempfile.TemporaryDirectory(prefix="csvbot-sim-")
        self.workdir = Path(self._tmp.name)
        self.emulator = TelegramEmulator(seed=seed, spill_dir=self.workdir / "telegram")
        self.storage_server: SupabaseStorageServer | None = None
        self.settings: Settings | None = None
        self.telemetry: Telemetry | None = None
        self.app: BotApp | None = None
        self._serve: asyncio.Task[None] | None = None
        self._procs: list[asyncio.subprocess.Process] = []
        #: Where each process serves /metrics; worker ports are fixed before the workers start.
        self.endpoints = Endpoints(bot=metrics_port, workers=())
        #: Which database the run used, for the report.
        self.database_description = "sqlite"

    async def __aenter__(self) -> Harness:
        await self.emulator.start()
        s, faults = self.scenario, self.scenario.faults
        overrides: dict[str, Any] = {
            "bot_token": SecretStr(self.emulator.token),
            "telegram_api_url": self.emulator.url,
            "webhook_url": None,
            "storage_timeout_seconds": s.storage_timeout,
            "storage_slow_seconds": min(s.storage_slow, s.storage_timeout),
            "log_file": self.workdir / "csvbot.log",
            # Simulated users are well-behaved: keep the flood limit out of the measurement.
            "flood_max_updates": 1_000,
            "worker_heartbeat_file": self.workdir / "worker.heartbeat",
        }
        if not self.base.uses_postgres:
            overrides["sqlite_path"] = self.workdir / "csvbot.sqlite3"
        if s.session_limit is not None:
            overrides["supabase_session_limit"] = s.session_limit
        if s.worker_concurrency is not None:
            overrides["worker_concurrency"] = s.worker_concurrency
        if s.tuning_window is not None:
            overrides["session_limit_window_seconds"] = s.tuning_window
        if s.tuning_cooldown is not None:
            overrides["session_limit_cooldown_seconds"] = s.tuning_cooldown
        if faults.uses_storage_server:
            self.storage_server = SupabaseStorageServer(seed=self.seed, data_dir=self.workdir / "supabase")
            await self.storage_server.start()
            overrides["supabase_url"] = self.storage_server.url
            overrides["supabase_key"] = SecretStr(self.storage_server.key)
        elif not self.base.uses_supabase_storage:
            overrides["storage_dir"] = self.workdir / "storage"
        # Uploads waiting for an outage to end are kept in the run's folder, not the current one.
        overrides["spool_dir"] = self.workdir / "spool"
        self.settings = self.base.model_copy(update=overrides)
        self._inject_telegram_faults()

        self.telemetry = Telemetry.start(
            self.settings,
            service="bot",
            metrics_port=self.metrics_port,
            serve_metrics=self.metrics_port is not None,
            log_to_stderr=self.log_to_stderr,
        )
        self.app = BotApp(self.settings, self.telemetry, **self._database_model())
        await self.app.start()
        # Faults start once the service is up: a start-up that cannot reach storage is refused by
        # design, and the run measures the service at work, not its start-up checks.
        if self.storage_server is not None:
            self._inject_storage_faults()
        self._serve = asyncio.get_running_loop().create_task(self.app.serve(), name="csvbot-sim-bot")
        if self.settings.redis_url:
            await self._start_workers()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for proc in self._procs:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in self._procs:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 10)
        if self._serve is not None:
            self._serve.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._serve
        if self.app is not None:
            await self.app.stop()
        if self.telemetry is not None:
            await self.telemetry.stop()
        if self.storage_server is not None:
            await self.storage_server.stop()
        await self.emulator.stop()
        self._tmp.cleanup()

    def _database_model(self) -> dict[str, Any]:
        """On SQLite, the scenario's PostgreSQL-like session model (if it has one)."""
        round_trip = self.scenario.db_round_trip
        if self.base.uses_postgres or not round_trip:
            self.database_description = "postgresql" if self.base.uses_postgres else "sqlite"
            return {}
        self.database_description = f"sqlite + PostgreSQL-like model ({round_trip * 1000:.0f} ms per session)"
        return {"open_repo": ModelledOpener(round_trip)}

    def _inject_storage_faults(self) -> None:
        assert self.storage_server is not None
        f = self.scenario.faults
        plan = self.storage_server.faults
        if f.storage_hang_rate:
            plan.add(Fault.hang(probability=f.storage_hang_rate))
        if f.storage_error_rate:
            plan.add(Fault.error_status(503, probability=f.storage_error_rate))
        if f.storage_latency_median:
            plan.add(
                Fault.latency_distribution(
                    f.storage_latency_median, max(f.storage_latency_p99, f.storage_latency_median)
                )
            )

    def _inject_telegram_faults(self) -> None:
        f = self.scenario.faults
        if f.telegram_429_rate:
            self.emulator.inject_rate_limit(
                REPLY_METHODS, retry_after=f.telegram_retry_after, probability=f.telegram_429_rate
            )
        if f.telegram_5xx_rate:
            self.emulator.inject_server_error(REPLY_METHODS, status=502, probability=f.telegram_5xx_rate)

    async def _start_workers(self) -> None:
        """``csvbot worker`` processes sharing the emulator, database and storage."""
        assert self.settings is not None
        env = dict(os.environ)
        env.update(_settings_env(self.settings))
        ports = worker_ports(self.metrics_port, self.workers)
        self.endpoints = Endpoints(bot=self.metrics_port, workers=ports)
        for i, port in enumerate(ports):
            env_i = {
                **env,
                "METRICS_PORT": str(port),
                "WORKER_HEARTBEAT_FILE": str(self.workdir / f"worker{i}.hb"),
            }
            self._procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "service",
                    "worker",
                    env=env_i,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )


def _settings_env(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, for child processes."""
    env: dict[str, str] = {}
    for name, raw in settings.model_dump().items():
        if raw is None:
            continue
        value = raw.get_secret_value() if isinstance(raw, SecretStr) else raw
        if isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        env[name.upper()] = str(value)
    return env
