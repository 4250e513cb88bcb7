"""Delivery as its own step: a failure after ``done`` never fails the job, each document is
recorded as it is sent, and a deliverer that takes over sends only what was not recorded."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from aiogram.exceptions import TelegramServerError

from service.db import JobStatus
from service.errors import DatabaseUnavailableError
from service.workers.delivery import Deliverer, document_name, result_caption, safe_stem
from service.workers.reaper import Reaper
from telemetry import slo
from tests.unit.workers.conftest import JobWorld


def _is_cleaned(entry: Any) -> bool:
    return entry.document is not None and entry.document.file_name.endswith(".cleaned.csv")


def _is_profile(entry: Any) -> bool:
    return entry.document is not None and entry.document.file_name.endswith(".profile.csv")


async def _sweep_once_the_lease_is_over(world: JobWorld) -> None:
    world.clock.advance(world.settings.job_lease_seconds + 1)
    reaper = Reaper(world.services, world.bot, world.kicks, heartbeat_file=None, sweeper=world.sweeper())
    await reaper.tick()
    assert reaper.sweeper is not None
    await reaper.sweeper.aclose(grace_seconds=10)


def test_file_names_lose_control_characters_quotes_and_path_parts() -> None:
    """A CR/LF in the multipart file name is a 400 from Telegram; none ever reaches it."""
    assert safe_stem("sales\r\nreport.csv") == "sales report"
    assert safe_stem('../../etc/"passwd".csv') == "etc passwd"
    assert safe_stem("\x00\x07") == "data"
    assert len(safe_stem("x" * 500 + ".csv")) == 64


async def test_the_caption_leads_with_the_job_id_says_a_resend_and_fits_telegrams_limit(
    world: JobWorld,
) -> None:
    job = await world.done_job()
    column = {
        "position": 1, "name": "x" * 40, "type": "string", "values": 2, "null_share": 0.0,
        "distinct": 2, "distinct_is_exact": True, "samples": ["y" * 40],
    }  # fmt: skip
    wide = replace(
        job,
        summary={**(job.summary or {}), "columns": 300, "column_profiles": [column] * 300},
    )
    first = result_caption(wide).as_kwargs()["text"]
    again = result_caption(wide, resend=True).as_kwargs()["text"]
    assert first.startswith(f"Job {job.id}\n") and again.startswith(f"Job {job.id} (sent again)\n")
    assert len(first) <= 1024 and len(again) <= 1024
    assert first.split("\n", 1)[1] == again.split("\n", 1)[1], "a resend says what the first said"
    # The per-column block is a monospace entity, never markup inside the text.
    assert [e.type for e in result_caption(wide).as_caption_kwargs()["caption_entities"]] == ["pre"]


async def test_a_job_whose_profile_cannot_be_sent_stays_done_and_gets_it_later(
    world: JobWorld, monkeypatch: Any
) -> None:
    """The profile document fails every send: the user never reads "could not be completed",
    the job stays done, and the sweeper later sends only the profile, marked as a resend."""
    job = await world.job(file_name="sales\r\nQ3.csv")
    send = world.bot.send_document

    async def profile_fails(chat_id: int, document: Any, **kwargs: Any) -> Any:
        if document.filename.endswith(".profile.csv"):
            world.emulator.inject_server_error(["sendDocument"], status=502, count=2)  # both session tries
        return await send(chat_id, document, **kwargs)

    monkeypatch.setattr(world.bot, "send_document", profile_fails)
    await world.runner().run(job.id, {})
    monkeypatch.setattr(world.bot, "send_document", send)
    row = await world.repo.get_job(job.id)
    assert row.status is JobStatus.DONE and row.delivered_at is None
    assert not any("could not be completed" in t for t in world.texts())
    assert world.sample("csvbot_jobs_total", outcome="ok") == 1
    assert world.sample("csvbot_deliveries_total", outcome="retry") == 1
    [cleaned] = [e for e in world.documents() if _is_cleaned(e)]
    assert cleaned.document.file_name == "sales Q3.cleaned.csv"
    assert await world.repo.delivered_documents(job.id) == {"cleaned"}

    await _sweep_once_the_lease_is_over(world)
    assert [e for e in world.documents() if _is_cleaned(e)] == [cleaned], "the cleaned file is not resent"
    [profile] = [e for e in world.documents() if _is_profile(e)]
    assert profile.caption == f"Job {job.id} (sent again)"
    assert (await world.repo.get_job(job.id)).delivered_at is not None


async def test_a_failing_mark_delivered_never_tells_the_user_the_job_failed(
    world: JobWorld, monkeypatch: Any
) -> None:
    calls = 0
    original = world.repo.mark_delivered

    async def flaky(job_id: str, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise DatabaseUnavailableError("database restarting")
        return await original(job_id, **kwargs)

    monkeypatch.setattr(world.repo, "mark_delivered", flaky)
    job = await world.job()
    await world.runner().run(job.id, {})
    assert not any("could not be completed" in t for t in world.texts())
    assert (await world.repo.get_job(job.id)).status is JobStatus.DONE
    assert len(world.documents()) == 2
    await _sweep_once_the_lease_is_over(world)
    assert len(world.documents()) == 2, "both documents were recorded: nothing is sent again"
    assert (await world.repo.get_job(job.id)).delivered_at is not None


async def test_a_worker_killed_between_the_documents_resends_only_the_missing_one(world: JobWorld) -> None:
    """The first worker sent and recorded the cleaned file, then died: the sweeper sends the
    profile only, marked as a resend."""
    job = await world.done_job()
    await world.bot.send_message(world.user.chat_id, "(the cleaned file the first worker sent)")
    assert await world.repo.record_document_delivered(
        job.id, "cleaned", delivery_attempt=job.delivery_attempts
    )
    await _sweep_once_the_lease_is_over(world)
    [sent] = world.documents()
    assert sent.document.file_name == document_name(job, "profile")
    assert sent.caption == f"Job {job.id} (sent again)"
    assert world.sample("csvbot_result_documents_sent_total", send="resend") == 1


async def test_the_in_flight_document_is_the_only_repeat_and_its_caption_agrees_with_the_first(
    world: JobWorld, monkeypatch: Any
) -> None:
    """The cleaned file reached the user but its record did not (the worker died in between):
    it is sent again — the one repeat allowed — saying so, with the first caption's summary."""
    job = await world.job()

    async def dies(*args: Any, **kwargs: Any) -> bool:
        raise DatabaseUnavailableError("worker gone")

    record = world.repo.record_document_delivered
    monkeypatch.setattr(world.repo, "record_document_delivered", dies)
    await world.runner().run(job.id, {})
    monkeypatch.setattr(world.repo, "record_document_delivered", record)
    [first] = world.documents()
    await _sweep_once_the_lease_is_over(world)
    first_again, profile = world.documents()[1:]
    assert first.caption is not None and first_again.caption is not None
    assert first.caption.startswith(f"Job {job.id}\n")
    assert first_again.caption.startswith(f"Job {job.id} (sent again)\n")
    assert first_again.caption.split("\n", 1)[1] == first.caption.split("\n", 1)[1]
    assert _is_profile(profile) and len(world.documents()) == 3


async def test_a_result_stranded_before_any_document_is_sent_again_with_the_same_summary(
    world: JobWorld,
) -> None:
    job = await world.done_job()
    await _sweep_once_the_lease_is_over(world)
    cleaned, profile = world.documents()
    assert cleaned.caption == result_caption(job, resend=True).as_kwargs()["text"]
    assert cleaned.caption.startswith(f"Job {job.id} (sent again)\n2 rows × 3 columns")
    assert _is_profile(profile)
    assert (await world.repo.get_job(job.id)).delivered_at is not None
    await _sweep_once_the_lease_is_over(world)
    assert len(world.documents()) == 2, "a delivered result is never sent again"


async def test_a_chat_that_blocked_the_bot_ends_the_delivery_for_good(
    world: JobWorld, monkeypatch: Any
) -> None:
    from aiogram.exceptions import TelegramForbiddenError

    async def blocked(*args: Any, **kwargs: Any) -> Any:
        raise TelegramForbiddenError(method=None, message="Forbidden: bot was blocked by the user")  # type: ignore[arg-type]

    job = await world.done_job()
    monkeypatch.setattr(world.bot, "send_document", blocked)
    await _sweep_once_the_lease_is_over(world)
    row = await world.repo.get_job(job.id)
    assert row.delivery_error is not None and "blocked" in row.delivery_error
    assert world.sample("csvbot_deliveries_total", outcome="given_up") == 1


async def test_a_deliverer_whose_claim_was_taken_over_during_a_retry_sends_nothing_more(
    world: JobWorld, monkeypatch: Any
) -> None:
    """The cleaned file's first send failed and took so long that the lease ran out: another
    worker's sweeper claimed the delivery and sent the whole result. The first deliverer's retry
    must not send the cleaned file a second time."""
    job = await world.done_job()
    send = world.bot.send_document
    failed = False

    async def first_send_fails_after_a_takeover(chat_id: int, document: Any, **kwargs: Any) -> Any:
        nonlocal failed
        if not failed:
            failed = True
            await _sweep_once_the_lease_is_over(world)  # the other worker: its sends go through
            raise TelegramServerError(method=None, message="Bad Gateway")  # type: ignore[arg-type]
        return await send(chat_id, document, **kwargs)

    monkeypatch.setattr(world.bot, "send_document", first_send_fails_after_a_takeover)
    assert await world.deliverer().deliver(job, files=None) == "fenced"
    assert [_is_cleaned(e) for e in world.documents()] == [True, False], (
        "the stalled deliverer sent the cleaned file again"
    )


async def test_the_delivery_lease_is_renewed_while_a_slow_send_runs(
    world: JobWorld, monkeypatch: Any
) -> None:
    """A send slower than the lease (a large file, a run of 429s) keeps its claim: no other
    worker can take the delivery over and send it again meanwhile."""
    job = await world.done_job()
    lease = 0.6
    deliverer = Deliverer(world.services, world.bot, retry_pause=lambda attempt: 0.0, lease_seconds=lease)
    send = world.bot.send_document
    taken: list[str] = []

    async def slow(chat_id: int, document: Any, **kwargs: Any) -> Any:
        if document.filename.endswith(".cleaned.csv"):
            # The lease taken at finish has run out.
            world.clock.advance(world.settings.job_lease_seconds + 1)

            deadline = time.monotonic() + 10.0  # generous: the keeper renews every lease / 3
            while (await world.repo.get_job(job.id)).delivery_lease_expires_at <= world.clock():  # type: ignore[operator]
                assert time.monotonic() < deadline, "the delivery lease was never renewed"
                await asyncio.sleep(0.05)
            claims = await world.repo.claim_deliveries(max_attempts=5, lease_seconds=lease)
            taken.extend(j.id for j in claims.claimed)
        return await send(chat_id, document, **kwargs)

    monkeypatch.setattr(world.bot, "send_document", slow)
    assert await deliverer.deliver(job, files=None) == "delivered"
    assert taken == [], "another worker could claim the delivery while it was being sent"
    assert len(world.documents()) == 2


async def test_a_result_given_up_after_every_attempt_tells_its_user_how_to_get_it(
    world: JobWorld, monkeypatch: Any
) -> None:
    """Every delivery attempt failed: the service gives up, and the chat is not left silent."""
    job = await world.done_job()
    for _ in range(slo.DELIVERY_MAX_ATTEMPTS - 1):  # the finishing worker held the first
        world.clock.advance(world.settings.job_lease_seconds + 1)
        claims = await world.repo.claim_deliveries(
            max_attempts=slo.DELIVERY_MAX_ATTEMPTS, lease_seconds=world.settings.job_lease_seconds
        )
        assert claims.abandoned == []
    await _sweep_once_the_lease_is_over(world)
    assert world.documents() == []
    assert world.texts()[-1] == (
        f"Job {job.id} is done, but I could not send you its results after several tries. "
        f"Send /job {job.id} to get them."
    )
    assert world.sample("csvbot_deliveries_total", outcome="abandoned") == 1
