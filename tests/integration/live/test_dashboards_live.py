"""Every panel of every committed dashboard shows the real service's data in a real Prometheus.

One run drives the real bot and its in-process worker with simulated users while the faults that
some panels exist for are injected, so that those panels have something to show rather than a
flat zero: Supabase Storage hangs (timeouts), 503s (retries) and latency (slow calls), Telegram
429s and 502s, a PostgreSQL a 100 ms round trip away, a burst of users that starves the session
pool (waits, acquire timeouts), one user flooding the bot (the flood limit), and an operator
raising the session limit with ``/limit`` (limit changes), and a run of storage 503s on job
downloads (a requeued job).

Each query's Grafana variables are replaced as ``panel_queries`` documents; a query "shows data"
when Prometheus returns at least one finite, non-zero sample over the run. ``MAY_STAY_ZERO`` lists
the few queries for which zero is the right answer in a healthy minute; they must still return a
finite series (so a misspelt metric or label still fails).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from emulators.supabase_storage import Fault
from service.bot import limit_view
from service.storage.retry import RetryPolicy
from simulate.scenarios import SCENARIOS, Faults
from tests.integration.live.conftest import service_settings
from tests.integration.live.live_run import LiveRun
from tests.integration.live.panel_queries import PanelQuery, dashboard_queries, substitute
from tests.integration.live.prometheus_server import PrometheusServer, finite, sample_values

pytestmark = pytest.mark.integration

#: (dashboard uid, panel title, refId) → why zero is the correct value in this run.
MAY_STAY_ZERO: dict[tuple[str, str, str], str] = {
    ("csvbot-runtime", "Log queue depth vs capacity", "A"): (
        "the log queue drains within milliseconds, so a once-a-second scrape finds it empty"
    ),
    ("csvbot-runtime", "Dropped records / s by level", "A"): (
        "the 10,000-record log queue never fills in a healthy run (drops have unit tests)"
    ),
    ("csvbot-runtime", "Dropped records / s by level", "B"): ("the same drops, WARNING and worse only"),
    ("csvbot-runtime", "Log queue fill", "A"): (
        "the same depth as a share of capacity: an empty queue at every scrape reads 0"
    ),
    ("csvbot-workers", "Results not delivered", "A"): (
        "a result is delivered within a second of its job finishing; a reaper tick every few "
        "seconds rarely finds one waiting (delivery retries have unit and fault tests)"
    ),
    ("csvbot-workers", "Oldest undelivered result", "A"): ("the same results, by age"),
    ("csvbot-workers", "Broker read errors / s by instance and kind", "A"): (
        "this run uses the in-process broker: there are no Redis reads to fail (the fault "
        "suite stops Redis under real workers)"
    ),
}

#: Users act at 2/s for 30 s while every storage and Telegram fault is on at once.
SCENARIO = replace(
    SCENARIOS["launch"],
    name="live-dashboards",
    rate=2.0,
    duration=30.0,
    drain=5.0,
    faults=Faults(
        storage_latency_median=0.05,
        storage_latency_p99=1.0,
        storage_hang_rate=0.05,
        storage_error_rate=0.10,
        telegram_429_rate=0.10,
        telegram_5xx_rate=0.02,
    ),
    # Calls slower than 0.5 s count as slow; a hang times out after 1.5 s.
    storage_timeout=1.5,
    storage_slow=0.5,
    session_limit=2,
)
OPERATOR_ID = 990_000_001
#: Tries of one storage call before it fails (service/storage/retry.py's default policy).
STORAGE_ATTEMPTS = RetryPolicy().max_attempts
#: 150 simultaneous /jobs need 150 sessions of ≥ 0.1 s each through 2 slots: ~7.5 s of queue,
#: so the last few dozen wait past the 5 s acquire timeout.
POOL_BURST_USERS = 150
#: The simulator sets FLOOD_MAX_UPDATES to 1,000 per 10 s; one message more is refused.
FLOOD_MESSAGES = 1_001


async def exercise_rare_paths(run: LiveRun) -> None:
    """The events no steady workload produces: a job attempt ended by storage (requeued), a
    pool-starving burst, a flood, an operator."""
    emulator = run.harness.emulator
    # The next job input downloads answer 503 past the in-place retries (4 per download): the
    # attempt ends in an outage and the job is queued again, whatever the random faults did.
    assert run.harness.storage_server is not None
    run.harness.storage_server.faults.add(
        Fault.error_status(503, operations=frozenset({"download"}), count=2 * STORAGE_ATTEMPTS)
    )
    await asyncio.sleep(5.0)
    for i in range(POOL_BURST_USERS):
        emulator.send_text(emulator.create_user(f"burst{i}").id, "/jobs")
    await asyncio.sleep(5.0)
    flooder = emulator.create_user("flooder").id
    for _ in range(FLOOD_MESSAGES):
        emulator.send_text(flooder, "/help")
    await asyncio.sleep(3.0)
    operator = emulator.create_user("operator", user_id=OPERATOR_ID).id
    sent = emulator.send_text(operator, "/limit 3")
    # The operator is an admin, so the decision's notice ("Session limit 2 → 3 (operator, …)")
    # reaches the same chat, before or after the command's own answer: wait for the answer.
    changed = limit_view.changed(2, 3)
    try:
        await emulator.wait_for_message(
            operator, lambda e: e.seq > sent.seq and e.content == changed, timeout=15.0
        )
    except TimeoutError:
        seen = [e.content for e in emulator.bot_messages(operator)]
        raise AssertionError(f"/limit 3 was not applied: {seen!r}") from None


async def evaluate(prometheus: PrometheusServer, query: PanelQuery, start: float, end: float) -> list[float]:
    expr = substitute(query.expr, range_seconds=max(1, round(end - start)))
    if query.instant:
        return sample_values(await prometheus.query(expr, at=end))
    return sample_values(await prometheus.query_range(expr, start, end, step=1.0))


@pytest.mark.timeout(150)
async def test_every_dashboard_panel_shows_data_from_the_running_service(
    remote_pg_dsn: str, prometheus_bin: Path, fast_rule_files: list[Path], tmp_path: Path
) -> None:
    queries = dashboard_queries()
    assert len(queries) > 50, "the committed dashboards were not found"
    assert set(MAY_STAY_ZERO) <= {(q.dashboard, q.panel, q.ref_id) for q in queries}, "stale exemption"
    settings = service_settings(database_url=remote_pg_dsn, ADMIN_IDS=str(OPERATOR_ID))
    async with LiveRun(
        SCENARIO, settings, prometheus_binary=prometheus_bin, rule_files=fast_rule_files, workdir=tmp_path
    ) as run:
        await exercise_rare_paths(run)
        await asyncio.sleep(max(0.0, SCENARIO.duration - run.elapsed))
        start, end = run.started_at, time.time()
        values = {q: await evaluate(run.prometheus, q, start, end) for q in queries}
        instances = await run.prometheus.label_values("instance", "csvbot_build_info")

    assert f"127.0.0.1:{run.metrics_port}" in instances, "the dashboards' $instance variable finds no csvbot"
    no_data = [q.name for q, v in values.items() if not finite(v)]
    assert not no_data, f"{len(no_data)} panel queries returned no data: {no_data}"
    flat = [
        q.name
        for q, v in values.items()
        if not any(x != 0 for x in finite(v)) and (q.dashboard, q.panel, q.ref_id) not in MAY_STAY_ZERO
    ]
    assert not flat, f"{len(flat)} panel queries stayed at zero for the whole run: {flat}"
