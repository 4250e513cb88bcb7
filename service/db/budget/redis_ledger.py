"""The budget ledger in Redis: one hash, renewed in optimistic transactions (WATCH/MULTI).

Each field of :data:`LEDGER_KEY` is one process's lease with its expiry on Redis's own clock
(``TIME``), so processes on machines with skewed clocks agree on who is dead. A renewal watches
the hash, reads every lease, drops the expired ones, computes the grant and writes it back; if
another process renewed in between, Redis aborts the transaction and the renewal starts over.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from service.db.budget.allocation import Lease, LeaseReport, grant_for
from service.db.budget.ledger import decode_lease, encode_lease

LEDGER_KEY = "csvbot:budget:leases"
#: Renewals race only with other renewals (a few per second at most): 20 tries is never reached
#: unless something is wrong, and then the renewal fails like an unreachable Redis.
MAX_RETRIES = 20


class RedisLedger:
    kind = "redis"

    def __init__(self, url: str, *, key: str = LEDGER_KEY) -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._key = key

    async def renew(
        self, report: LeaseReport, *, current: int, budget: int, limit: int, ttl: float, reserve: bool = False
    ) -> int:
        for _ in range(MAX_RETRIES):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(self._key)
                    now = _seconds(await pipe.time())
                    live, expired = _split(await pipe.hgetall(self._key), now)
                    others = [lease for pid, lease in live.items() if pid != report.process_id]
                    grant = grant_for(report, current, others, budget=budget, limit=limit)
                    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                    if expired:
                        pipe.hdel(self._key, *expired)
                    pipe.hset(self._key, report.process_id, encode_lease(Lease(report, grant, now + ttl)))
                    await pipe.execute()
                    return grant
                except WatchError:
                    continue
        raise ConnectionError(f"the budget ledger stayed contended for {MAX_RETRIES} attempts")

    async def release(self, process_id: str) -> None:
        await self._redis.hdel(self._key, process_id)

    async def leases(self) -> list[Lease]:
        now = _seconds(await self._redis.time())
        live, _ = _split(await self._redis.hgetall(self._key), now)
        return list(live.values())

    async def aclose(self) -> None:
        await self._redis.aclose()


def _seconds(redis_time: Any) -> float:
    seconds, micros = redis_time
    return float(seconds) + float(micros) / 1e6


def _split(raw: dict[Any, Any], now: float) -> tuple[dict[str, Lease], list[str]]:
    live: dict[str, Lease] = {}
    expired: list[str] = []
    for field, value in raw.items():
        pid = field.decode() if isinstance(field, bytes) else str(field)
        lease = decode_lease(value)
        if lease is None or lease.expires_at <= now:
            expired.append(pid)
        else:
            live[pid] = lease
    return live, expired
