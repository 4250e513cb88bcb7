"""A whole job through the real runner, in the user's language and format; cancelling a running
job; /job re-sending results by Telegram file id; /language."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.types import Update

from emulators.telegram import EmulatedUser, TelegramEmulator
from service.bot.callbacks import sign
from service.bot.dispatcher import build_dispatcher
from service.control.objects import job_keys
from service.db import Job, JobStatus
from service.db.userdata import is_cancelled
from service.deps import Services
from service.storage.keys import input_key
from service.workers.runner import JobRunner
from tests.unit.bot.conftest import MakeMessage
from tests.unit.control.test_user_control import exists, press, send

CSV = b"id,phone,amount\n007,+79161234567,12.5\n2,+7,-3.5\n2,+7,-3.5\n"


async def queued_upload(
    services: Services, user: EmulatedUser, progress_message_id: int | None = None
) -> Job:
    repo = services.repo
    await repo.remember_user(
        user_id=user.id, chat_id=user.chat_id, username=None, language_code=user.language_code
    )
    job = await repo.create_job(
        user_id=user.id,
        chat_id=user.chat_id,
        file_name="продажи.csv",
        file_size=len(CSV),
        progress_message_id=progress_message_id,
    )
    key = input_key(user.id, job.id)
    await services.storage.upload_bytes(key, CSV, "text/csv")
    queued = await repo.mark_queued(job.id, input_key=key)
    assert queued is not None
    return queued


def runner(services: Services, bot: Bot) -> JobRunner:
    async def kick(job_id: str, carrier: dict[str, str]) -> None:
        raise AssertionError("nothing should be retried")

    return JobRunner(services, bot, kick, lease_seconds=60)


async def test_a_russian_users_job_comes_back_in_russian_in_their_format_and_resends_by_file_id(
    emulator: TelegramEmulator, bot: Bot, services: Services, make_message: MakeMessage
) -> None:
    user = emulator.create_user(language_code="ru")
    job = await queued_upload(services, user)
    await services.repo.set_output_format(user.id, "xlsx")
    await runner(services, bot).run(job.id, {})

    documents = [m for m in emulator.bot_messages(user.chat_id) if m.document is not None]
    assert [d.document.file_name for d in documents] == ["продажи.cleaned.xlsx", "продажи.profile.xlsx"]  # type: ignore[union-attr]
    caption = documents[0].caption or ""
    assert caption.startswith(f"Задание {job.id}\n2 строки × 3 столбца; удалена 1 повторяющаяся строка")
    assert "телефон" not in caption and "phone" in caption  # column names are the user's own
    assert emulator.chat_actions(user.chat_id).get("upload_document", 0) >= 1
    assert await services.repo.result_file_ids(job.id) is not None
    assert (await services.repo.get_job(job.id)).status is JobStatus.DONE

    class NoStorage:
        async def download_to_file(self, *_: Any) -> None:
            raise AssertionError("/job must send the results by file id, not from storage")

    resend_services = Services(
        settings=services.settings,
        metrics=services.metrics,
        repo=services.repo,
        storage=NoStorage(),
        enqueue=services.enqueue,
        health=services.health,  # type: ignore[arg-type]
    )
    before = len(emulator.bot_messages(user.chat_id))
    await send(build_dispatcher(resend_services), bot, make_message, user, f"/job {job.id}")
    sent = emulator.bot_messages(user.chat_id)[before:]
    assert sent[0].text is not None and sent[0].text.startswith(f"Задание {job.id}: готово")
    assert [m.document.file_id for m in sent[1:]] == [d.document.file_id for d in documents]  # type: ignore[union-attr]


async def test_job_resends_answer_the_job_message_and_the_delivery_answers_nothing(
    emulator: TelegramEmulator, bot: Bot, services: Services, make_message: MakeMessage
) -> None:
    """Asked for again, the documents reply to the ``/job`` message: they read as its answer,
    and whoever counts deliveries (the simulator) can tell them from a second delivery."""
    user = emulator.create_user()
    job = await queued_upload(services, user)
    await runner(services, bot).run(job.id, {})
    delivered = [m for m in emulator.bot_messages(user.chat_id) if m.document is not None]
    assert [m.reply_to_message_id for m in delivered] == [None, None]

    asked = emulator.send_text(user.id, f"/job {job.id}")
    message = make_message(user, f"/job {job.id}").model_copy(update={"message_id": asked.message_id})
    before = len(emulator.bot_messages(user.chat_id))
    await build_dispatcher(services).feed_update(
        bot, Update(update_id=asked.seq + 10_000, message=message.as_(bot))
    )
    resent = [m for m in emulator.bot_messages(user.chat_id)[before:] if m.document is not None]
    assert [m.reply_to_message_id for m in resent] == [asked.message_id, asked.message_id]


async def test_a_refused_second_file_id_resends_only_the_second_document_from_storage(
    emulator: TelegramEmulator, bot: Bot, services: Services, make_message: MakeMessage
) -> None:
    user = emulator.create_user(language_code="en")
    job = await queued_upload(services, user)
    await runner(services, bot).run(job.id, {})
    file_ids = await services.repo.result_file_ids(job.id)
    assert file_ids is not None
    await services.repo.set_result_file_ids(job.id, file_ids[0], "no-longer-known")

    before = len(emulator.bot_messages(user.chat_id))
    await send(build_dispatcher(services), bot, make_message, user, f"/job {job.id}")
    documents = [m.document for m in emulator.bot_messages(user.chat_id)[before:] if m.document]

    assert [d.file_name for d in documents] == ["продажи.cleaned.csv", "продажи.profile.csv"]
    assert documents[0].file_id == file_ids[0], "the first went by its id, once"
    refreshed = await services.repo.result_file_ids(job.id)
    assert refreshed is not None and refreshed[1] == documents[1].file_id


async def test_a_running_job_cancelled_stops_at_its_next_checkpoint_and_leaves_no_files(
    emulator: TelegramEmulator, bot: Bot, services: Services, tmp_path: object
) -> None:
    user = emulator.create_user(language_code="en")
    progress = await bot.send_message(user.chat_id, "Queued")
    job = await queued_upload(services, user, progress_message_id=progress.message_id)
    repo: Any = services.repo
    claim = repo.claim_job

    async def claim_then_cancel(job_id: str, lease_seconds: float) -> Job | None:
        claimed = await claim(job_id, lease_seconds)
        await repo.cancel_job(job_id, user.id)  # the user presses Cancel while it runs
        return claimed

    repo.claim_job = claim_then_cancel
    try:
        await runner(services, bot).run(job.id, {})
    finally:
        repo.claim_job = claim

    assert is_cancelled(await services.repo.get_job(job.id))
    assert not any([await exists(services, k, tmp_path) for k in job_keys(job)])
    assert [m for m in emulator.bot_messages(user.chat_id) if m.document is not None] == []
    final = emulator.bot_messages(user.chat_id)[0]
    assert final.text is not None and "cancelled" in final.text and final.reply_markup is None
    # It stopped at the checkpoint after the download: it never got to processing the file.
    assert [e.text for e in final.edits if "processing" in (e.text or "")] == []
    assert final.edits[-1].reply_markup is not None  # the Cancel button was there while it ran


async def test_language_button_switches_and_the_next_reply_follows(
    emulator: TelegramEmulator, bot: Bot, services: Services, make_message: MakeMessage
) -> None:
    user = emulator.create_user(language_code="en")
    dp = build_dispatcher(services)
    await send(dp, bot, make_message, user, "/language")
    await press(emulator, bot, dp, user, sign(services.settings, "lang", "ru", user.id))
    assert emulator.bot_messages(user.chat_id)[-1].text == "Теперь я говорю по-русски."
    await send(dp, bot, make_message, user, "/privacy")
    privacy = emulator.bot_messages(user.chat_id)[-1].text or ""
    assert "удаляются через 7 дней" in privacy
    prefs = await services.repo.get_user_prefs(user.id)
    assert prefs is not None and prefs.language == "ru"
