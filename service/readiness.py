"""``/readyz`` from live checks: the database, storage and broker are probed in the background.

The metrics endpoint answers from its own thread and must never wait on a dependency, so the
probes run on the event loop every ``READINESS_CHECK_INTERVAL_SECONDS``, each bounded by
``READINESS_PROBE_TIMEOUT_SECONDS``, and set the named flags of :class:`HealthState` that
``/readyz`` reads: the answer is at most one interval old and a scrape costs nothing. A flag that
changes is logged once (not on every probe), and each result is also the gauge
``csvbot_dependency_ready{check}``, so an unreachable dependency alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from telemetry import slo
from telemetry.metrics import Metrics
from telemetry.server import HealthState

log = logging.getLogger(__name__)

#: A check passes by returning; any exception (or the timeout) fails it.
Check = Callable[[], Awaitable[None]]


class ReadinessProbe:
    def __init__(
        self,
        health: HealthState,
        checks: Mapping[str, Check],
        *,
        interval: float = slo.READINESS_CHECK_INTERVAL_SECONDS,
        timeout: float = slo.READINESS_PROBE_TIMEOUT_SECONDS,
        metrics: Metrics | None = None,
    ) -> None:
        self.health = health
        #: ``csvbot_dependency_ready{check}``: what CsvbotDependencyUnreachable reads.
        self.metrics = metrics
        self.checks = dict(checks)
        self.interval = interval
        self.timeout = timeout
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="csvbot-readiness")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def probe(self) -> dict[str, bool]:
        """Run every check once (concurrently) and publish the results."""
        names = list(self.checks)
        outcomes = await asyncio.gather(*(self._one(name) for name in names))
        return dict(zip(names, outcomes, strict=True))

    async def _one(self, name: str) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                await self.checks[name]()
            ok, error = True, None
        except Exception as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"[:300]
        if self.health.snapshot().get(name) != ok:
            log.log(
                logging.INFO if ok else logging.WARNING,
                "readiness of %s: %s",
                name,
                "ready" if ok else "not ready",
                extra={"event": "readiness_changed", "check": name, "ready": ok, "error": error},
            )
        self.health.set(name, ok)
        if self.metrics is not None:
            self.metrics.dependency_ready.labels(name).set(1 if ok else 0)
        return ok

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.probe()
