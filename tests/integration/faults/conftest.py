"""Fixtures of the fault suite: one running service per module, and the table of what each fault
did (printed at the end of the run and written to ``$CSVBOT_FAULTS_REPORT`` when set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio

from emulators.supabase_storage import SupabaseStorageServer
from emulators.telegram import TelegramEmulator
from tests.integration.db.tcp_proxy import TcpProxy
from tests.integration.faults.redis_server import RedisServer
from tests.integration.faults.stack import FaultStack
from tests.integration.faults.tally import HEADER, Tally

RESULTS: list[Tally] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    table = "\n".join([HEADER, *(t.row() for t in RESULTS)])
    terminalreporter.write_sep("=", "fault suite: what each upload got")
    terminalreporter.write_line(table)
    report = os.environ.get("CSVBOT_FAULTS_REPORT")
    if report:
        Path(report).write_text(table + "\n")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fault_database(pg_server_dsn: str) -> AsyncIterator[str]:
    name = f"csvbot_faults_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield urlsplit(pg_server_dsn)._replace(path=f"/{name}").geturl()
    conn = await asyncpg.connect(pg_server_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fault_stack(
    tmp_path_factory: pytest.TempPathFactory, fault_database: str
) -> AsyncIterator[FaultStack]:
    root = tmp_path_factory.mktemp("faults")
    target = urlsplit(fault_database)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    redis = RedisServer(root / "redis")
    await redis.start()
    async with (
        TelegramEmulator(seed=11, spill_dir=root / "telegram") as emulator,
        SupabaseStorageServer(data_dir=root / "supabase") as storage,
    ):
        stack = FaultStack(emulator, storage, redis, proxy, fault_database, root / "processes")
        try:
            await stack.ensure_running()
            yield stack
        finally:
            await stack.stop()
            await redis.stop()
            await proxy.stop()
