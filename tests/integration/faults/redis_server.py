"""A throwaway ``redis-server`` on a port of its own, that a test stops, starts and wipes.

Persistence is an append-only file fsynced on every write, so a stop and start keeps the data
(an outage); :meth:`RedisServer.restart_empty` deletes the files first (Redis restarted with its
data lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

import redis.asyncio as aioredis

from tests.integration.e2e.processes import free_port


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test installs it)"
        self.proc = await asyncio.create_subprocess_exec(
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.workdir),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                if await client.ping():
                    return
            except Exception:  # not listening yet
                if loop.time() > deadline:
                    raise
            finally:
                await client.aclose()
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()

    async def restart_empty(self) -> None:
        await self.stop()
        for path in self.workdir.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        await self.start()
