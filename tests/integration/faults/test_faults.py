"""Nothing lost, nothing stuck, nothing twice: for each fault, uploads are driven through the real
processes while the fault happens, and every upload is counted — exactly one result, a duplicate,
an error, or nothing — together with the job rows left unfinished.

Asserted for every fault: 0 lost, 0 duplicates (a document in flight when its worker died may
be sent again by the worker that takes over, marked as a resend: counted apart, at most one per
worker killed), 0 stuck rows, every upload its result once the
fault ends (an outage beyond the spool's bound may end in a clear message, counted apart). The test
command runs the issue's counts (100 uploads per fault); ``CSVBOT_FAULTS_PROFILE=quick`` 20.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from emulators.supabase_storage import Fault
from tests.integration.e2e.polling import eventually
from tests.integration.faults.conftest import RESULTS
from tests.integration.faults.profile import Profile, current
from tests.integration.faults.stack import JOB_LEASE_SECONDS, READY_SECONDS, WORKER_CONCURRENCY, FaultStack
from tests.integration.faults.tally import Tally, count, settled

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(900),
]

PROFILE = current()
#: After the last result, how long a duplicate would have to show up: past another lease and
#: reaper tick, so a second delivery of any task would have run by then.
DUPLICATE_WINDOW_SECONDS = JOB_LEASE_SECONDS + 3.0

Action = Callable[[FaultStack, Profile], Awaitable[None]]
KILL_ROUNDS = 4


@dataclass(frozen=True)
class Case:
    name: str
    action: Action
    #: Set when the fix lives in a piece not built yet: the case must fail until it is.
    missing: str | None = None
    #: The fault leaves the workers unable to consume (Redis lost its consumer group): they are
    #: restarted after the count, so that the next case starts from a working service.
    restart_workers_after: bool = False
    #: Documents that may be sent twice: one per delivery running in a worker that was killed.
    allowed_repeats: int = 0


async def _kill_workers_4x(stack: FaultStack, p: Profile) -> None:
    """Four times: right after a result document went out (the second one, delayed, still to
    go), SIGKILL the workers — certain to hit the one that is delivering."""
    stack.emulator.inject_latency(["sendDocument"], seconds=0.8)
    for _ in range(KILL_ROUNDS):
        sent = stack.emulator.stats.calls("sendDocument")
        try:
            await eventually(
                lambda sent=sent: stack.emulator.stats.calls("sendDocument") > sent,
                # Replacement workers may take long to start on a loaded machine.
                within=READY_SECONDS,
                what="a result document to be sent",
            )
        except AssertionError:
            break  # nothing is being delivered any more (the jobs left are stuck): count them

        victims = stack.live_workers
        for victim in victims:
            victim.kill()
        for victim in victims:
            assert victim.proc is not None
            await victim.proc.wait()
        # Replacements start in the background: the next kill does not wait for their start-up.
        for _ in victims:
            await stack.spawn_worker()
    stack.emulator.clear_faults()


async def _postgres_down(stack: FaultStack, p: Profile) -> None:
    await stack.pg_proxy.stop()
    await asyncio.sleep(p.outage_seconds)
    await stack.pg_proxy.start()


async def _postgres_restart(stack: FaultStack, p: Profile) -> None:
    await stack.pg_proxy.stop()  # every connection is cut, as by a restart
    await asyncio.sleep(1.0)
    await stack.pg_proxy.start()


async def _redis_down(stack: FaultStack, p: Profile) -> None:
    await stack.redis.stop()
    await asyncio.sleep(p.outage_seconds)
    await stack.redis.start()


async def _redis_data_lost(stack: FaultStack, p: Profile) -> None:
    await stack.redis.restart_empty()


def _storage(fault: Callable[[], Fault]) -> Action:
    async def action(stack: FaultStack, p: Profile) -> None:
        stack.storage.faults.add(fault())
        await asyncio.sleep(p.storage_outage_seconds)
        stack.storage.faults.clear()

    return action


async def _bot_restart(stack: FaultStack, p: Profile) -> None:
    assert stack.bot is not None
    # Slow file lookups hold updates inside their handlers when the SIGTERM arrives.
    stack.emulator.inject_latency(["getFile"], seconds=1.0)
    await asyncio.sleep(1.5)
    await stack.bot.stop()  # SIGTERM, mid-load
    stack.emulator.clear_faults()
    await stack.start_bot()


async def _telegram_429_storm(stack: FaultStack, p: Profile) -> None:
    stack.emulator.inject_rate_limit(probability=0.5, retry_after=1)
    await asyncio.sleep(p.outage_seconds)
    stack.emulator.clear_faults()


async def _delivery_fails(stack: FaultStack, p: Profile) -> None:
    # Results are recorded (finish_job) and then cannot be sent for a while.
    stack.emulator.inject_server_error(["sendDocument"], status=502)
    await asyncio.sleep(p.outage_seconds)
    stack.emulator.clear_faults()


CASES = [
    # Each round kills both workers, each delivering up to WORKER_CONCURRENCY results at once:
    # each of those may have had one document in flight.
    Case("worker SIGKILL mid-job 4x", _kill_workers_4x, allowed_repeats=KILL_ROUNDS * 2 * WORKER_CONCURRENCY),
    Case("PostgreSQL stopped", _postgres_down),
    Case("PostgreSQL restart", _postgres_restart),
    Case("Redis stopped", _redis_down),
    Case("Redis restarted, data lost", _redis_data_lost, restart_workers_after=True),
    Case("storage hangs", _storage(Fault.hang)),
    Case("storage 503s", _storage(lambda: Fault.error_status(503))),
    Case("storage: half the calls hang", _storage(lambda: Fault.hang(probability=0.5))),
    Case("bot SIGTERM + restart", _bot_restart),
    Case("Telegram 429 storm", _telegram_429_storm),
    Case("delivery fails after finish", _delivery_fails),
]


def _csv(i: int) -> bytes:
    return "".join(f"{i},{j},item{j}\n" for j in range(10)).join(["id,n,name\n", ""]).encode()


async def run_case(stack: FaultStack, case: Case, p: Profile) -> Tally:
    await stack.ensure_running()
    stack.emulator.clear_faults()
    stack.storage.faults.clear()
    tally = Tally(case.name, allowed_repeats=case.allowed_repeats)
    slug = "".join(c if c.isalnum() else "-" for c in case.name.lower())
    users = [stack.emulator.create_user(f"{slug}-{i}") for i in range(p.uploads)]
    started = time.monotonic()

    async def send_all() -> None:
        for i, user in enumerate(users):
            await stack.emulator.send_document(user.id, _csv(i), f"{slug}-{i}.csv", mime_type="text/csv")
            await asyncio.sleep(p.spread_seconds / p.uploads)

    async def fault() -> None:
        await asyncio.sleep(p.spread_seconds / 4)  # some uploads are in flight when it starts
        await case.action(stack, p)

    await asyncio.gather(send_all(), fault())
    stack.emulator.clear_faults()
    stack.storage.faults.clear()
    await stack.ensure_running()
    chat_ids = [user.id for user in users]
    deadline = time.monotonic() + p.settle_seconds
    while True:  # results that never come are counted below, not raised here
        if settled(stack.emulator, chat_ids) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)
    await asyncio.sleep(DUPLICATE_WINDOW_SECONDS)
    count(tally, stack.emulator, chat_ids)
    tally.stuck_detail = await stack.stuck_rows(chat_ids)
    tally.stuck_rows = sum(tally.stuck_detail.values())
    tally.spool_left = stack.spool_entries()
    tally.seconds = time.monotonic() - started
    RESULTS.append(tally)
    if case.restart_workers_after:
        await stack.restart_workers()
    return tally


def _check(tally: Tally, stack: FaultStack) -> None:
    chats = "\n".join(f"-- {outcome}:\n" + "\n".join(shown) for outcome, shown in tally.examples.items())
    assert tally.ok, f"{tally}\n{chats}\n{stack.stderr_tails()}"


def _marks(case: Case) -> list[pytest.MarkDecorator]:
    if case.missing:
        return [pytest.mark.xfail(strict=True, reason=case.missing)]
    return []


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name, marks=_marks(c)) for c in CASES],
)
async def test_every_upload_gets_exactly_one_result_through_the_fault(
    fault_stack: FaultStack, case: Case
) -> None:
    tally = await run_case(fault_stack, case, PROFILE)
    _check(tally, fault_stack)


async def test_webhook_mode_sigterm_mid_load_loses_nothing(fault_stack: FaultStack) -> None:
    """Last in the module: the bot stays in webhook mode afterwards."""
    assert fault_stack.bot is not None
    await fault_stack.bot.stop()
    fault_stack.webhook = True
    await fault_stack.start_bot()
    tally = await run_case(fault_stack, Case("webhook mode SIGTERM mid-load", _bot_restart), PROFILE)
    _check(tally, fault_stack)
