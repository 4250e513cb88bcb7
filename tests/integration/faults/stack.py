"""The whole service as real processes for the fault suite, and handles to break each part.

Bot (``csvbot run`` with ``REDIS_URL``) and two ``csvbot worker`` processes; PostgreSQL behind a
TCP proxy the suite can cut (the shared server is never stopped); a throwaway ``redis-server``
the suite stops, starts and wipes; the Storage test server and the Telegram emulator in the test
process, where faults are injected directly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from emulators.supabase_storage import SupabaseStorageServer
from emulators.telegram import TelegramEmulator
from tests.integration.db.tcp_proxy import TcpProxy
from tests.integration.e2e.processes import ServiceProcess, free_port
from tests.integration.faults.redis_server import RedisServer

#: Short, so work a killed worker held is taken back within seconds (the default is 5 minutes).
JOB_LEASE_SECONDS = 5
#: Jobs (and so deliveries) each worker runs at once.
WORKER_CONCURRENCY = 2
#: A storage call that hangs is given up after this long (15 s in production).
STORAGE_TIMEOUT_SECONDS = 3
WEBHOOK_SECRET = "fault-suite-secret"
#: Start-up on a loaded two-core machine (imports alone can take tens of seconds there).
READY_SECONDS = 180.0


def proxied(dsn: str, port: int) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@dataclass
class FaultStack:
    emulator: TelegramEmulator
    storage: SupabaseStorageServer
    redis: RedisServer
    pg_proxy: TcpProxy
    database_dsn: str
    root: Path
    bot: ServiceProcess | None = None
    workers: list[ServiceProcess] = field(default_factory=list)
    webhook: bool = False
    _starts: int = 0

    @property
    def env(self) -> dict[str, str]:
        env = {
            "BOT_TOKEN": self.emulator.token,
            "TELEGRAM_API_URL": self.emulator.url,
            "SUPABASE_URL": self.storage.url,
            "SUPABASE_KEY": self.storage.key,
            "DATABASE_URL": proxied(self.database_dsn, self.pg_proxy.port),
            "REDIS_URL": self.redis.url,
            "JOB_LEASE_SECONDS": str(JOB_LEASE_SECONDS),
            "WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "STORAGE_TIMEOUT_SECONDS": str(STORAGE_TIMEOUT_SECONDS),
            "STORAGE_SLOW_SECONDS": "2",
            "LOG_LEVEL": "INFO",
        }
        return env

    def _process(self, name: str, command: str, extra: dict[str, str] | None = None) -> ServiceProcess:
        self._starts += 1
        # The bot keeps its folder (and its spool) across restarts; workers get fresh ones.
        folder = self.root / name if name == "bot" else self.root / f"{name}-{self._starts}"
        return ServiceProcess(name, command, folder, {**self.env, **(extra or {})})

    async def start_bot(self) -> ServiceProcess:
        extra = {}
        if self.webhook:
            port = free_port()
            extra = {
                "WEBHOOK_URL": f"http://127.0.0.1:{port}",
                "WEBHOOK_PORT": str(port),
                "WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
        bot = self._process("bot", "run", extra)
        self.bot = bot
        await bot.start()
        await bot.wait_ready(timeout=READY_SECONDS)
        return bot

    async def start_worker(self) -> ServiceProcess:
        worker = self._process(f"worker{len(self.workers)}", "worker")
        self.workers.append(worker)
        await worker.start()
        await worker.wait_ready(timeout=READY_SECONDS)
        return worker

    async def spawn_worker(self) -> ServiceProcess:
        """A worker started without waiting for it to be ready."""
        worker = self._process(f"worker{len(self.workers)}", "worker")
        self.workers.append(worker)
        await worker.start()
        return worker

    async def restart_workers(self) -> None:
        await asyncio.gather(*(w.stop() for w in self.live_workers))
        await asyncio.gather(*(self.start_worker() for _ in range(2)))

    @property
    def live_workers(self) -> list[ServiceProcess]:
        return [w for w in self.workers if w.running]

    async def ensure_running(self, workers: int = 2) -> None:
        """Everything up again after a fault: the dependencies, the bot and ``workers`` workers."""
        if self.redis.proc is None or self.redis.proc.returncode is not None:
            await self.redis.start()
        if self.pg_proxy_down:
            await self.pg_proxy.start()
        starting = []
        if self.bot is None or not self.bot.running:
            starting.append(self.start_bot())
        starting += [self.start_worker() for _ in range(workers - len(self.live_workers))]
        starting += [w.wait_ready(timeout=READY_SECONDS) for w in self.live_workers]
        await asyncio.gather(*starting)

    @property
    def pg_proxy_down(self) -> bool:
        return self.pg_proxy._server is None

    async def stop(self) -> None:
        processes = [p for p in [self.bot, *self.workers] if p is not None]
        await asyncio.gather(*(p.stop() for p in processes), return_exceptions=True)

    async def stuck_rows(self, user_ids: list[int]) -> dict[str, int]:
        """Jobs of ``user_ids`` not final, or done and never delivered, by status (read past the
        proxy)."""
        conn = await asyncpg.connect(self.database_dsn)
        try:
            rows = await conn.fetch(
                "SELECT status, count(*) AS n FROM jobs WHERE user_id = ANY($1::bigint[]) AND "
                "(status IN ('received', 'queued', 'running') OR (status = 'done' AND delivered_at IS NULL)) "
                "GROUP BY status",
                user_ids,
            )
        finally:
            await conn.close()
        return {row["status"]: int(row["n"]) for row in rows}

    def spool_entries(self) -> int:
        return len(list((self.root / "bot" / "data" / "spool").glob("*.json")))

    def stderr_tails(self) -> str:
        processes = [p for p in [self.bot, *self.workers] if p is not None]
        return "\n".join(f"--- {p.name} ({p.workdir.name}):\n{p.stderr_tail(15)}" for p in processes)
