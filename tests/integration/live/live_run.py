"""The real service under a simulated workload, scraped and evaluated by a real Prometheus.

:class:`LiveRun` starts, in order: the simulator's :class:`~simulate.harness.Harness`
(Telegram emulator, the Supabase Storage test server when the scenario injects storage faults, the
real bot with its in-process worker and ``/metrics`` endpoint), then Prometheus scraping that
endpoint as the bot's scrape job, and the workload only once every rule group has been evaluated
on a successful scrape: from then on Prometheus is in the state of a deployed one, and whatever
fires is about the service, not about Prometheus starting.

While the run lasts, the alerts API is polled and the first moment each alert reached
``pending`` and ``firing`` is recorded (seconds since the load started) for the assertions and
their messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from promlib.names import BOT_JOB
from service.config import Settings
from simulate.driver import Workload
from simulate.harness import Harness
from simulate.scenarios import Scenario
from tests.integration.live.prometheus_server import PrometheusServer, free_port, parse_timestamp

SEED = 1
ALERT_POLL_SECONDS = 0.5


class LiveRun:
    def __init__(
        self,
        scenario: Scenario,
        settings: Settings,
        *,
        prometheus_binary: Path,
        rule_files: Sequence[Path],
        workdir: Path,
        alertmanager: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.metrics_port = free_port()
        self.harness = Harness(scenario, settings, seed=SEED, metrics_port=self.metrics_port)
        workdir.mkdir(parents=True, exist_ok=True)
        self.prometheus = PrometheusServer(
            prometheus_binary,
            workdir,
            job=BOT_JOB,
            target=f"127.0.0.1:{self.metrics_port}",
            rule_files=rule_files,
            alertmanager=alertmanager,
        )
        self.workload: Workload | None = None
        #: Wall-clock and monotonic time at which the load started.
        self.started_at = 0.0
        self._started_mono = 0.0
        #: (alert name, state) → seconds after the load started when it was first seen.
        self.first_seen: dict[tuple[str, str], float] = {}
        #: (alert name, state) → the alert as the API returned it then (labels, annotations).
        self.first_alert: dict[tuple[str, str], dict[str, Any]] = {}
        self.last_alerts: list[dict[str, Any]] = []
        self._exit = contextlib.AsyncExitStack()
        #: When the first successful scrape seen while starting ended (Prometheus' clock).
        self._first_scrape_end: float | None = None
        self._load: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LiveRun:
        try:
            await self._exit.enter_async_context(self.harness)
            self._exit.push_async_callback(self.prometheus.stop)
            await self.prometheus.start()
            # Prometheus applies new targets ~5 s after it starts; until then absent(up) is true
            # and the fast copy's 5 s `for` can fire CsvbotTargetAbsent. The load (and every
            # "what fired" window) starts once each rule group has been evaluated after the first
            # scrape, i.e. from a state a deployed Prometheus would be in.
            await self._until(self._rules_saw_first_scrape, within=15.0, what="the first scrape of csvbot")
            self.workload = Workload(self.scenario, self.harness.emulator, SEED)
            self.started_at, self._started_mono = time.time(), time.monotonic()
            self._load = asyncio.get_running_loop().create_task(self.workload.run(), name="live-load")
            self._exit.push_async_callback(self._stop_load)
            watch = asyncio.get_running_loop().create_task(self._watch_alerts(), name="live-alerts")
            self._exit.push_async_callback(_cancel, watch)
        except BaseException:
            await self._exit.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._exit.aclose()

    @property
    def elapsed(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self._started_mono

    async def wait_for_load(self) -> None:
        """Until the workload's arrivals are over and its answers are in (or timed out)."""
        assert self._load is not None
        await self._load

    async def wait_for_alert(self, name: str, state: str = "firing", *, within: float) -> dict[str, Any]:
        """``name`` as first seen in ``state`` (rendered annotations included); fails after ``within``."""
        deadline = time.monotonic() + within
        while (name, state) not in self.first_seen:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name} did not reach {state} within {within:g}s of load; "
                    f"timeline: {self.timeline()}; active: {self.describe_active()}"
                )
            if self._load is not None and self._load.done() and self._load.exception() is not None:
                raise AssertionError(f"the workload crashed: {self._load.exception()!r}")
            await asyncio.sleep(ALERT_POLL_SECONDS / 2)
        return self.first_alert[(name, state)]

    def timeline(self) -> str:
        ordered = sorted(self.first_seen.items(), key=lambda kv: kv[1])
        return ", ".join(f"{name} {state} at {t:.1f}s" for (name, state), t in ordered) or "nothing"

    def describe_active(self) -> str:
        return (
            "; ".join(
                f"{a['labels'].get('alertname')}={a['state']} ({a['annotations'].get('description', '')})"
                for a in self.last_alerts
            )
            or "none"
        )

    async def firing_during_run(self) -> set[str]:
        """Every alert Prometheus had firing at any evaluation since the load started.

        Read from the ``ALERTS`` series Prometheus writes on every evaluation, so an alert that
        fired between two polls of the alerts API is not missed.
        """
        # To the millisecond: a window rounded up would reach back before the load started.
        window_ms = max(1, int(self.elapsed * 1000))
        result = await self.prometheus.query(f'max_over_time(ALERTS{{alertstate="firing"}}[{window_ms}ms])')
        return {series["metric"]["alertname"] for series in result}

    # --- internals -----------------------------------------------------------------------------

    async def _watch_alerts(self) -> None:
        while True:
            try:
                alerts = await self.prometheus.alerts()
            except (httpx.HTTPError, AssertionError):  # one failed poll: the next one counts
                await asyncio.sleep(ALERT_POLL_SECONDS)
                continue
            self.last_alerts = alerts
            now = self.elapsed
            for alert in alerts:
                key = (alert["labels"]["alertname"], alert["state"])
                if key not in self.first_seen:
                    self.first_seen[key], self.first_alert[key] = now, alert
            await asyncio.sleep(ALERT_POLL_SECONDS)

    async def _stop_load(self) -> None:
        assert self._load is not None and self.workload is not None
        await _cancel(self._load)
        # Workload.run() leaves the users' actions in flight when it is cancelled mid-run; they
        # would otherwise outlive the harness.
        await self.workload.cancel()

    async def _rules_saw_first_scrape(self) -> bool:
        targets = await self.prometheus.active_targets()
        if not targets or any(t["health"] != "up" for t in targets):
            return False
        # lastScrape is when the scrape started; its samples are in only once it ended (a scrape
        # of ~2,500 series takes tens of milliseconds), and a rule evaluated in between still
        # sees no target. The end of the first successful scrape seen is kept: scrapes and
        # evaluations run at the same interval, so measured against the latest scrape an
        # evaluation that always falls inside a scrape would never count.
        if self._first_scrape_end is None:
            self._first_scrape_end = max(
                parse_timestamp(t["lastScrape"]) + float(t["lastScrapeDuration"]) for t in targets
            )
        scraped = self._first_scrape_end
        groups = await self.prometheus.rule_groups()
        return bool(groups) and all(parse_timestamp(g["lastEvaluation"]) > scraped for g in groups)

    @staticmethod
    async def _until(check: Callable[[], Awaitable[bool]], *, within: float, what: str) -> None:
        deadline = time.monotonic() + within
        while not await check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within:g}s waiting for {what}")
            await asyncio.sleep(0.2)


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
