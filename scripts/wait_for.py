"""Wait until PostgreSQL or Redis answers: ``wait_for.py postgres|redis URL SECONDS``.

Used by ``scripts/test`` so the suite starts only once its services really accept queries.
Exit 0 when the service answered, 1 (with the last error) when it did not in time.
"""

from __future__ import annotations

import asyncio
import sys
import time


async def _postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=2)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


def main() -> int:
    kind, url, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    probe = {"postgres": _postgres, "redis": _redis}[kind]
    deadline = time.monotonic() + seconds
    last: BaseException | None = None
    while True:
        try:
            asyncio.run(probe(url))
            return 0
        except Exception as exc:
            last = exc
        if time.monotonic() >= deadline:
            print(f"{kind} at {url.split('@')[-1]} did not answer: {last}", file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    raise SystemExit(main())
