"""``/readyz`` from live checks: probes set the flags, a hanging dependency is bounded, and the
endpoint answers from the last probe without waiting on anything."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

from prometheus_client import CollectorRegistry

from service.readiness import ReadinessProbe
from telemetry.metrics import Metrics
from telemetry.server import HealthState, start_metrics_server


async def test_probes_follow_a_dependency_down_and_back_up() -> None:
    health = HealthState()
    state = {"db": True}

    async def database() -> None:
        if not state["db"]:
            raise ConnectionError("refused")

    async def storage() -> None:
        await asyncio.sleep(60)  # hangs: the probe's timeout ends it

    metrics = Metrics(CollectorRegistry())
    probe = ReadinessProbe(
        health, {"database": database, "storage": storage}, interval=0.05, timeout=0.1, metrics=metrics
    )

    def gauge(check: str) -> float | None:
        return metrics.registry.get_sample_value("csvbot_dependency_ready", {"check": check})

    assert await probe.probe() == {"database": True, "storage": False}
    assert (gauge("database"), gauge("storage")) == (1, 0)
    state["db"] = False
    assert await probe.probe() == {"database": False, "storage": False}
    assert gauge("database") == 0, "an unreachable database must show in the metric the alert reads"
    state["db"] = True
    assert (await probe.probe())["database"] is True
    assert gauge("database") == 1


async def test_readyz_reports_the_last_probe_and_changes_while_the_process_runs() -> None:
    health = HealthState()
    up = {"ok": True}

    async def broker() -> None:
        if not up["ok"]:
            raise RuntimeError("cannot read tasks from the broker (no_group)")

    probe = ReadinessProbe(health, {"broker": broker}, interval=0.05, timeout=1)
    await probe.probe()
    probe.start()
    server = start_metrics_server(CollectorRegistry(), port=0, health=health)

    def readyz() -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"{server.url}/readyz", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    try:
        assert (await asyncio.to_thread(readyz))[0] == 200
        up["ok"] = False
        for _ in range(100):
            status, body = await asyncio.to_thread(readyz)
            if status == 503:
                break
            await asyncio.sleep(0.02)
        assert status == 503 and body["checks"] == {"broker": False}
    finally:
        await probe.stop()
        server.stop()
