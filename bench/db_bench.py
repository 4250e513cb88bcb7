"""Database latency per named query, and a burst of concurrent reads through the session limit.

    .venv/bin/python bench/db_bench.py [--calls 300] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Runs the same workload on SQLite (a temporary file) and on PostgreSQL (a throwaway database it
creates and drops), side by side, and prints p50/p99 per query plus the wall time of 2,000
concurrent ``get_job`` calls with a session limit of 4.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from prometheus_client import CollectorRegistry

from service.config import load_settings
from service.db import Repository, new_job_id, open_repository
from telemetry.metrics import Metrics


def _ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _timed(calls: int, fn: Callable[[int], Awaitable[object]]) -> list[float]:
    out = []
    for i in range(calls):
        t0 = time.perf_counter()
        await fn(i)
        out.append(time.perf_counter() - t0)
    return out


async def _workload(repo: Repository, calls: int) -> dict[str, str]:
    await repo.upsert_user(user_id=1, chat_id=1, username="bench")
    ids = [new_job_id() for _ in range(calls)]
    for job_id in ids:
        await repo.create_job(user_id=1, chat_id=1, file_name="b.csv", file_size=10, job_id=job_id)
        await repo.mark_queued(job_id)
    get = await _timed(calls, lambda i: repo.get_job(ids[i]))
    claim = await _timed(calls, lambda i: repo.claim_job(ids[i], 60))
    finish = await _timed(
        calls, lambda i: repo.finish_job(ids[i], cleaned_key=None, profile_key=None, summary={"rows": i})
    )
    t0 = time.perf_counter()
    await asyncio.gather(*(repo.get_job(ids[i % calls]) for i in range(2000)))
    burst = time.perf_counter() - t0
    row = {
        name: f"{_ms(s, 0.5):.2f} / {_ms(s, 0.99):.2f} ms"
        for name, s in (("get_job", get), ("claim_job", claim), ("finish_job", finish))
    }
    row["2,000 concurrent get_job"] = f"{burst:.2f} s ({2000 / burst:,.0f}/s)"
    return row


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"SQLITE_PATH": str(Path(tmp) / "b.sqlite3")}, env_file=None)
        repo = await open_repository(settings, Metrics(CollectorRegistry(), process_metrics=False))
        results["SQLite"] = await _workload(repo, args.calls)
        await repo.aclose()

    name = f"csvbot_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.pg)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        parts = urlsplit(args.pg)
        dsn = urlunsplit(parts._replace(path=f"/{name}"))
        settings = load_settings({"DATABASE_URL": dsn, "SUPABASE_SESSION_LIMIT": "4"}, env_file=None)
        repo = await open_repository(settings, Metrics(CollectorRegistry(), process_metrics=False))
        results["PostgreSQL"] = await _workload(repo, args.calls)
        await repo.aclose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    keys = list(next(iter(results.values())))
    width = max(len(k) for k in keys) + 2
    print(f"{'(p50 / p99)':<{width}}" + "".join(f"{b:>28}" for b in results))
    for key in keys:
        print(f"{key:<{width}}" + "".join(f"{results[b][key]:>28}" for b in results))


if __name__ == "__main__":
    asyncio.run(main())
