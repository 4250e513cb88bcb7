"""Outage tolerance at the edge: an upload accepted while storage is down is kept in the spool,
the user is told so once, and the job is queued (then the normal flow) when storage is back — or,
past the bound, the user is asked to send it again. Also the per-user quotas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from emulators.supabase_storage import Fault, SupabaseStorageServer
from emulators.telegram import TelegramEmulator, TranscriptEntry
from service.app import BotApp
from tests.integration.e2e.embedded import embedded_bot
from tests.integration.e2e.loop_gaps import loop_gaps
from tests.integration.e2e.polling import eventually
from tests.integration.e2e.transcript import is_cleaned_result

pytestmark = pytest.mark.integration

UPLOAD = b"id,name\n1,alpha\n2,beta\n"


@pytest_asyncio.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SupabaseStorageServer]:
    async with SupabaseStorageServer(data_dir=tmp_path / "supabase") as server:
        yield server


def _settings(storage: SupabaseStorageServer, **extra: Any) -> dict[str, Any]:
    from pydantic import SecretStr

    return {
        "supabase_url": storage.url,
        "supabase_key": SecretStr(storage.key),
        # Short deadlines: an outage is noticed in a second instead of 15.
        "storage_timeout_seconds": 1.0,
        "storage_slow_seconds": 0.5,
        **extra,
    }


def _progress(emulator: TelegramEmulator, chat_id: int) -> TranscriptEntry:
    return next(e for e in emulator.bot_messages(chat_id) if e.document is None)


def _sample(app: BotApp, name: str, **labels: str) -> float:
    assert app.services is not None
    return app.services.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_an_upload_during_a_storage_outage_waits_in_the_spool_and_then_completes(
    tmp_path: Path, storage: SupabaseStorageServer
) -> None:
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path, **_settings(storage)) as app:
        storage.faults.add(Fault.error_status(503, operations={"upload"}))
        user = emulator.create_user("sam")
        await emulator.send_document(user.id, UPLOAD, "outage.csv", mime_type="text/csv")
        waiting = await emulator.wait_for_message(
            user.id, lambda e: "kept your file" in e.content, timeout=20
        )
        assert "No need to send it again" in waiting.content
        assert _sample(app, "csvbot_spool_spooled_total", dependency="storage") == 1
        assert _sample(app, "csvbot_spool_entries") == 1
        storage.faults.clear()
        await emulator.wait_for_message(user.id, is_cleaned_result, timeout=30)
        await eventually(lambda: "done" in _progress(emulator, user.id).content, within=10, what="done")
        assert _sample(app, "csvbot_spool_replayed_total", reason="storage") == 1
        assert _sample(app, "csvbot_spool_entries") == 0
        assert not any("try again" in e.content.lower() for e in emulator.bot_messages(user.id))


async def test_a_spooled_upload_survives_a_restart_and_is_replayed_at_start_up(
    tmp_path: Path, storage: SupabaseStorageServer
) -> None:
    async with TelegramEmulator() as emulator:
        user = emulator.create_user("rita")
        async with embedded_bot(emulator, tmp_path, **_settings(storage)):
            storage.faults.add(Fault.error_status(503, operations={"upload"}))
            await emulator.send_document(user.id, UPLOAD, "restart.csv", mime_type="text/csv")
            await emulator.wait_for_message(user.id, lambda e: "kept your file" in e.content, timeout=20)
        assert list((tmp_path / "spool").glob("*.json")), "the entry must stay on disk"
        storage.faults.clear()
        async with embedded_bot(emulator, tmp_path, **_settings(storage)) as app:
            await emulator.wait_for_message(user.id, is_cleaned_result, timeout=30)
            assert _sample(app, "csvbot_spool_replayed_total", reason="restart") == 1
        cleaned = [e for e in emulator.bot_messages(user.id) if is_cleaned_result(e)]
        assert len(cleaned) == 1


async def test_an_outage_longer_than_the_bound_ends_in_a_clear_message(
    tmp_path: Path, storage: SupabaseStorageServer
) -> None:
    settings = _settings(storage, spool_max_age_seconds=3.0)
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path, **settings) as app:
        storage.faults.add(Fault.error_status(503, operations={"upload"}))
        user = emulator.create_user("ted")
        await emulator.send_document(user.id, UPLOAD, "long.csv", mime_type="text/csv")
        gave_up = await emulator.wait_for_message(
            user.id, lambda e: "stayed unavailable" in e.content, timeout=30
        )
        assert "send it again" in gave_up.content
        assert _sample(app, "csvbot_spool_expired_total", dependency="storage") == 1
        assert _sample(app, "csvbot_spool_entries") == 0


async def test_a_full_spool_says_the_file_was_not_kept(
    tmp_path: Path, storage: SupabaseStorageServer
) -> None:
    settings = _settings(storage, spool_max_bytes=1)
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path, **settings) as app:
        storage.faults.add(Fault.error_status(503, operations={"upload"}))
        user = emulator.create_user("una")
        await emulator.send_document(user.id, UPLOAD, "full.csv", mime_type="text/csv")
        reply = await emulator.wait_for_message(user.id, lambda e: "not saved" in e.content, timeout=20)
        assert "not lost" not in reply.content and "kept your file" not in reply.content
        assert _sample(app, "csvbot_spool_full_total") == 1


async def test_a_storage_hang_at_the_bot_stage_never_claims_an_unkept_file_was_kept(
    tmp_path: Path, storage: SupabaseStorageServer
) -> None:
    """With no spool room, a hang is answered without "your file was not lost"."""
    settings = _settings(storage, spool_max_bytes=1)
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path, **settings):
        storage.faults.add(Fault.hang(operations={"upload"}))
        user = emulator.create_user("vic")
        await emulator.send_document(user.id, UPLOAD, "hang.csv", mime_type="text/csv")
        reply = await emulator.wait_for_message(user.id, lambda e: "not saved" in e.content, timeout=20)
        assert all("not lost" not in e.content for e in emulator.bot_messages(user.id)), reply.content


async def test_the_active_jobs_quota_refuses_a_second_upload_while_the_first_runs(
    tmp_path: Path, storage: SupabaseStorageServer
) -> None:
    settings = _settings(storage, quota_active_jobs=1, storage_timeout_seconds=10.0, storage_slow_seconds=5.0)
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path, **settings) as app:
        # The first job's input download stalls, so it stays running while the second arrives.
        storage.faults.add(Fault.latency(4.0, operations={"download"}, count=1))
        user = emulator.create_user("quinn")
        await emulator.send_document(user.id, UPLOAD, "first.csv", mime_type="text/csv")
        await eventually(
            lambda: storage.faults.fired[("download", "latency")], within=20, what="first job running"
        )
        await emulator.send_document(user.id, UPLOAD, "second.csv", mime_type="text/csv")
        refusal = await emulator.wait_for_message(user.id, lambda e: "in progress" in e.content, timeout=10)
        assert "1 file in progress" in refusal.content
        assert _sample(app, "csvbot_quota_refused_total", quota="active_jobs") == 1
        await emulator.wait_for_message(user.id, is_cleaned_result, timeout=30)
        await asyncio.sleep(0.5)
        assert len([e for e in emulator.bot_messages(user.id) if is_cleaned_result(e)]) == 1


async def test_the_daily_bytes_quota_refuses_past_the_budget(
    tmp_path: Path, storage: SupabaseStorageServer
) -> None:
    settings = _settings(storage, quota_daily_bytes=len(UPLOAD) + 10)
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path, **settings) as app:
        user = emulator.create_user("ida")
        await emulator.send_document(user.id, UPLOAD, "one.csv", mime_type="text/csv")
        await emulator.wait_for_message(user.id, is_cleaned_result, timeout=30)
        await emulator.send_document(user.id, UPLOAD, "two.csv", mime_type="text/csv")
        refusal = await emulator.wait_for_message(user.id, lambda e: "last 24 hours" in e.content, timeout=10)
        assert "limit" in refusal.content
        assert _sample(app, "csvbot_quota_refused_total", quota="daily_bytes") == 1


async def test_a_slow_disk_under_the_spool_does_not_hold_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Committing an upload fsyncs it (~45 ms for 20 MB measured, far more on a busy disk): that
    runs in a thread, so commands are answered meanwhile. Here the fsync takes 0.6 s."""
    import time

    from service.spool import store

    fsync = store._fsync_file

    def slow_fsync(path: Path) -> None:
        time.sleep(0.6)
        fsync(path)

    monkeypatch.setattr(store, "_fsync_file", slow_fsync)
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path) as app:
        user = emulator.create_user("kim")
        async with loop_gaps() as gaps:
            await emulator.send_document(user.id, UPLOAD, "slow-disk.csv", mime_type="text/csv")
            await emulator.wait_for_message(user.id, is_cleaned_result, timeout=30)
        assert _sample(app, "csvbot_spool_entries") == 0
        assert max(gaps) < 0.5, f"the loop stood still for {max(gaps):.2f} s"
