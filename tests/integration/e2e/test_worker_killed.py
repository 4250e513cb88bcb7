"""A worker process killed (SIGKILL) in the middle of a job: the job is not lost, and the user
gets exactly one result — not zero, not two."""

from __future__ import annotations

import asyncio
import re

import pytest

from emulators.supabase_storage import Fault
from tests.integration.e2e.conftest import JOB_LEASE_SECONDS, Stack
from tests.integration.e2e.polling import eventually
from tests.integration.e2e.transcript import is_cleaned_result

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

UPLOAD = b"id,name,amount\n1,alpha,10\n2,beta,-3\n3,gamma,7.5\n"
#: Long enough to kill the worker while it waits, short of the storage timeout (15 s).
DOWNLOAD_STALL_SECONDS = 4.0
JOB_ID = re.compile(r"\bJob ([0-9a-f]{12})\b")
#: After the first result, how long a duplicate would have to show up: past another lease and
#: reaper tick (5 s each), so a second delivery of the task would have run by then.
DUPLICATE_WINDOW_SECONDS = JOB_LEASE_SECONDS + 2.0


async def test_a_worker_killed_mid_job_still_yields_exactly_one_result(stack: Stack) -> None:
    """SIGKILL while the input downloads; a new worker takes the job over once its lease expires;
    the user receives one cleaned file and the job ends ``done`` after two attempts."""
    [doomed] = stack.live_workers
    stack.storage.faults.add(Fault.latency(DOWNLOAD_STALL_SECONDS, operations={"download"}, count=1))
    user = stack.emulator.create_user("Karl")
    await stack.emulator.send_document(user.id, UPLOAD, "slow.csv", mime_type="text/csv")

    # The stalled download reached storage: the worker has claimed the job and is inside it.
    await eventually(
        lambda: stack.storage.faults.fired[("download", "latency")],
        within=30,
        what="the worker's download to reach storage",
    )
    doomed.kill()
    assert doomed.proc is not None
    await doomed.proc.wait()
    # The progress message the killed worker left behind names the job: "Job <id>: downloading".
    progress = await stack.emulator.wait_for_message(user.id, lambda e: "downloading" in e.content)
    match = JOB_ID.search(progress.content)
    assert match, progress.content
    job_id = match.group(1)
    job = await stack.job_row(job_id)
    assert job["status"] == "running" and job["attempts"] == 1, job

    await stack.start_worker()
    first = await stack.emulator.wait_for_message(user.id, is_cleaned_result, timeout=60)
    assert first.content.startswith(f"Job {job_id}")
    await asyncio.sleep(DUPLICATE_WINDOW_SECONDS)

    assert len([e for e in stack.emulator.bot_messages(user.id) if is_cleaned_result(e)]) == 1
    job = await stack.job_row(job_id)
    assert job["status"] == "done"
    assert job["attempts"] == 2
