"""A worker that died after recording a result but before sending it: the sweeper of a running
process finds the undelivered result on its own — no new traffic, no task — and sends it once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emulators.telegram import TelegramEmulator
from service.db import JobStatus, Repository
from service.storage import cleaned_key, input_key, profile_key
from tests.integration.e2e.embedded import embedded_bot

pytestmark = pytest.mark.integration


async def _until_delivered(repo: Repository, job_id: str) -> None:
    """Marked right after the second document (the profile) went out."""
    for _ in range(200):
        if (await repo.get_job(job_id)).delivered_at is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} was never marked delivered")


async def test_a_stranded_done_job_gets_its_result_sent_exactly_once(tmp_path: Path) -> None:
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path, job_lease_seconds=1.0) as app:
        assert app.repo is not None and app.storage is not None and app.services is not None
        repo, storage = app.repo, app.storage
        user = emulator.create_user("orphan")
        await repo.upsert_user(user_id=user.id, chat_id=user.id, username=None)
        # What a worker leaves behind when it dies right after finish_job: a done job whose
        # outputs are stored and whose result was never sent.
        job_id = "strandedjob1"
        await storage.upload_bytes(input_key(user.id, job_id), b"a,b\n1,2\n", "text/csv")
        await storage.upload_bytes(cleaned_key(user.id, job_id), b"a,b\r\n1,2\r\n", "text/csv")
        await storage.upload_bytes(profile_key(user.id, job_id), b"column,type\r\n", "text/csv")
        await repo.create_job(user_id=user.id, chat_id=user.id, file_name="x.csv", file_size=8, job_id=job_id)
        await repo.mark_queued(job_id)
        claimed = await repo.claim_job(job_id, lease_seconds=1)
        assert claimed is not None
        done = await repo.finish_job(
            job_id,
            cleaned_key=cleaned_key(user.id, job_id),
            profile_key=profile_key(user.id, job_id),
            summary={"rows_in": 1, "rows_out": 1, "columns": 2},
            attempt=claimed.token,
        )
        assert done is not None and done.status is JobStatus.DONE
        # Nothing enqueued: the delivery lease (1 s) expires and a reaper tick (5 s) sends it.
        result = await emulator.wait_for_message(
            user.id, lambda e: e.document is not None and bool(e.caption), timeout=20
        )
        assert result.caption is not None
        assert result.caption.startswith(f"Job {job_id} (sent again)\n1 row × 2 columns")
        assert result.document is not None
        assert await emulator.read_file(result.document.file_id) == b"a,b\r\n1,2\r\n"
        await _until_delivered(repo, job_id)

        await app.services.enqueue(job_id, {})  # a late task of the job: already delivered
        await asyncio.sleep(6.0)  # past another reaper tick
        sent = [e for e in emulator.bot_messages(user.id) if e.document is not None]
        assert len(sent) == 2  # the cleaned file and the profile, once each


async def test_a_normal_job_is_marked_delivered_after_its_result_is_sent(tmp_path: Path) -> None:
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path) as app:
        user = emulator.create_user("ada")
        await emulator.send_document(user.id, b"a,b\n1,2\n", "ok.csv", mime_type="text/csv")
        result = await emulator.wait_for_message(
            user.id, lambda e: e.document is not None and bool(e.caption), timeout=20
        )
        job_id = (result.caption or "").split()[1]
        assert app.repo is not None
        await _until_delivered(app.repo, job_id)
