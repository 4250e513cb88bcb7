"""The connection budget across real processes: a bot and workers on PostgreSQL and Redis.

A bot and three workers share a budget of 6 sessions (pool 9, reserve 3) under load, behind a
50 ms database round trip so that every query holds its session long enough for the pools to
fill. While one worker is SIGKILLed, another is added and an operator changes the limit twice,
a sampler reads ``pg_stat_activity`` every 50 ms: the budgeted sessions never exceed the budget,
and everything csvbot holds (start-up sessions of the reserve included) never exceeds the pool.
The killed worker's share is granted to the others within its lease TTL (plus one renewal).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from emulators.telegram import TelegramEmulator
from service.db.budget.redis_ledger import LEDGER_KEY
from simulate.driver import Workload
from simulate.scenarios import SCENARIOS
from tests.integration.e2e.processes import ServiceProcess
from tests.integration.live.latency_proxy import LatencyProxy

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

POOL, RESERVE = 9, 3
BUDGET = POOL - RESERVE
#: Short, so the test sees a dead share come back quickly, but well above the longest stall of a
#: process's event loop on a loaded CI machine (seconds): a live process whose renewal is late
#: past its TTL loses its share while it still holds the sessions.
LEASE_SECONDS = 8.0
HEARTBEAT = LEASE_SECONDS / 5
ADMIN = 777
#: Steady load of uploads and commands for the whole test (it ends before the arrivals do).
LOAD = replace(SCENARIOS["launch"], rate=5.0, duration=120.0, drain=5.0, users=200)


@dataclass
class Sampler:
    """pg_stat_activity of the service's sessions, every 50 ms."""

    dsn: str
    most_budgeted: int = 0
    most_total: int = 0
    samples: int = 0
    by_name: dict[str, int] = field(default_factory=dict)
    at: float = 0.0
    killed_at: float = 0.0

    async def run(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            while True:
                rows = await conn.fetch(
                    "SELECT application_name, count(*) AS n FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name LIKE 'csvbot-%' "
                    "GROUP BY application_name"
                )
                counts = {row["application_name"]: int(row["n"]) for row in rows}
                budgeted = sum(n for name, n in counts.items() if not name.endswith("-reserve"))
                if budgeted > self.most_budgeted:
                    self.most_budgeted, self.by_name, self.at = budgeted, counts, time.monotonic()
                self.most_total = max(self.most_total, sum(counts.values()))
                self.samples += 1
                await asyncio.sleep(0.05)
        finally:
            await conn.close()


@pytest_asyncio.fixture(loop_scope="module")
async def slow_dsn(database_dsn: str) -> AsyncIterator[str]:
    """The database behind a 50 ms round trip, the proxy on an event loop of its own (a thread):
    the test's loop is busy with the workload, and a lagging proxy would deliver one process's
    closed sessions to PostgreSQL after another process's new ones — a reordering no network
    between csvbot and its pooler makes across a lease renewal."""
    parts = urlsplit(database_dsn)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="latency-proxy", daemon=True)
    thread.start()
    proxy = LatencyProxy(parts.hostname or "127.0.0.1", parts.port or 5432, one_way_delay=0.025)
    port = asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(10)
    user = f"{parts.username}@" if parts.username else ""
    try:
        yield urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))
    finally:
        asyncio.run_coroutine_threadsafe(proxy.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def leases(redis_url: str) -> dict[str, dict[str, object]]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        raw = await client.hgetall(LEDGER_KEY)
        now = time.time()
        found = {k.decode(): json.loads(v) for k, v in raw.items()}
        return {pid: lease for pid, lease in found.items() if float(lease["expires_at"]) > now}
    finally:
        await client.aclose()


async def until(check, *, within: float, what: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what} did not happen within {within:g}s")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.timeout(480)
async def test_a_bot_and_three_workers_stay_within_the_budget_through_a_kill_a_scale_up_and_two_limit_changes(
    slow_dsn: str, database_dsn: str, e2e_redis_url: str, module_dir: Path
) -> None:
    root = module_dir / "budget"
    async with TelegramEmulator(seed=3, spill_dir=root / "telegram") as emulator:
        env = {
            "BOT_TOKEN": emulator.token,
            "TELEGRAM_API_URL": emulator.url,
            "DATABASE_URL": slow_dsn,
            "REDIS_URL": e2e_redis_url,
            "STORAGE_DIR": str(root / "storage"),
            "SUPABASE_POOL_SIZE": str(POOL),
            "SUPABASE_SESSION_RESERVE": str(RESERVE),
            "SUPABASE_SESSION_LIMIT": "3",
            "SUPABASE_SESSION_LIMIT_MAX": "6",
            "DB_BUDGET_LEASE_SECONDS": str(LEASE_SECONDS),
            "WORKER_CONCURRENCY": "4",
            "ADMIN_IDS": str(ADMIN),
            "FLOOD_MAX_UPDATES": "1000",
            "LOG_LEVEL": "INFO",
        }
        bot = ServiceProcess("bot", "run", root / "bot", env)
        workers = [ServiceProcess(f"worker{i}", "worker", root / f"worker{i}", env) for i in range(4)]
        # The worker to be SIGKILLed talks to PostgreSQL directly: its sessions end when the
        # kernel closes its sockets, not whenever the test's latency proxy (on this test's busy
        # event loop) gets round to closing the upstream side.
        workers[1] = ServiceProcess(
            "worker1", "worker", root / "worker1", {**env, "DATABASE_URL": database_dsn}
        )
        sampler = Sampler(database_dsn)
        sampling = asyncio.get_running_loop().create_task(sampler.run())
        load: asyncio.Task[None] | None = None
        try:
            for process in (bot, *workers[:3]):
                await process.start()
            # Generous: four interpreters importing at once on a shared 2-core machine.
            await asyncio.gather(*(p.wait_ready(timeout=240) for p in (bot, *workers[:3])))
            load = asyncio.get_running_loop().create_task(Workload(LOAD, emulator, seed=5).run())

            async def all_four_leased() -> bool:
                return len(await leases(e2e_redis_url)) == 4

            await until(all_four_leased, within=15, what="four leases")
            await asyncio.sleep(6)  # the load fills the pools and the shares settle
            before = await leases(e2e_redis_url)
            assert sum(int(lease["granted"]) for lease in before.values()) <= BUDGET, before

            # SIGKILL a worker: no release, its lease must expire; its share goes to the others.
            victim = workers[1]
            victim_id = next(pid for pid in before if pid.endswith(f"-{victim.pid}"))
            others_before = sum(int(v["granted"]) for pid, v in before.items() if pid != victim_id)
            victim.kill()
            killed_at = time.monotonic()
            sampler.killed_at = killed_at

            async def share_reused() -> bool:
                now = await leases(e2e_redis_url)
                return victim_id not in now and sum(int(v["granted"]) for v in now.values()) > others_before

            reused_after = await until(share_reused, within=LEASE_SECONDS * 3, what="reuse of the dead share")
            reused_after = time.monotonic() - killed_at
            print(f"dead worker's share reused {reused_after:.1f}s after SIGKILL (TTL {LEASE_SECONDS:g}s)")
            assert reused_after <= LEASE_SECONDS + 2 * HEARTBEAT

            # Scale up: a fourth worker joins a full budget and still gets its minimum.
            added = workers[3]
            await added.start()
            await added.wait_ready(timeout=240)

            async def added_granted() -> bool:
                now = await leases(e2e_redis_url)
                return any(pid.endswith(f"-{added.pid}") and int(v["granted"]) >= 1 for pid, v in now.items())

            await until(added_granted, within=15, what="a share for the added worker")

            # The operator changes the limit twice; every process follows within seconds.
            admin = emulator.create_user("ops", user_id=ADMIN)
            for new_limit in (2, 5):
                for _attempt in range(5):  # under this load the bot may answer "busy": an operator retries
                    sent = emulator.send_text(admin.id, f"/limit {new_limit} test change")
                    reply = await emulator.wait_for_message(
                        admin.id, lambda e, s=sent: e.seq > s.seq, timeout=30
                    )
                    if "busy" not in reply.content:
                        break
                assert f"→ {new_limit}" in reply.content, reply.content

                async def all_follow(limit: int = new_limit) -> bool:
                    now = await leases(e2e_redis_url)
                    return len(now) == 4 and all(int(v["granted"]) <= limit for v in now.values())

                await until(all_follow, within=10, what=f"every grant within limit {new_limit}")
                await asyncio.sleep(3)
            for _attempt in range(5):
                status_sent = emulator.send_text(admin.id, "/limit")
                status = await emulator.wait_for_message(
                    admin.id, lambda e, s=status_sent: e.seq > s.seq, timeout=30
                )
                if "busy" not in status.content:
                    break
            assert f"Budget {BUDGET} sessions" in status.content and status.content.count("grant ") == 4, (
                status.content
            )
        finally:
            if load is not None:
                load.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await load
            await asyncio.gather(*(p.stop() for p in (bot, *workers)), return_exceptions=True)
            sampling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampling
            for process in (bot, *workers):
                print(f"--- {process.name} stderr tail:\n{process.stderr_tail(15)}")
    print(
        f"pg_stat_activity over {sampler.samples} samples: most budgeted {sampler.most_budgeted} "
        f"({sampler.by_name}, {sampler.at - sampler.killed_at:+.1f}s from the SIGKILL), most in total "
        f"{sampler.most_total}; budget {BUDGET}, pool {POOL}"
    )
    assert sampler.samples > 100
    assert sampler.most_budgeted <= BUDGET, sampler.by_name
    assert sampler.most_total <= POOL
    # Not vacuous: the load did push the service to the budget.
    assert sampler.most_budgeted >= BUDGET - 1, sampler.by_name
