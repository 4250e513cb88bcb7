"""Cancel, /delete and retention through the real dispatcher, verified against storage."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from aiogram import Bot
from aiogram.types import Update

from emulators.telegram import EmulatedUser, TelegramEmulator
from service.bot import menu
from service.bot.callbacks import sign
from service.bot.dispatcher import build_dispatcher
from service.bot.menu import set_command_menus
from service.control.objects import job_keys
from service.control.retention import sweep_once
from service.db import Job, utc_now
from service.db.userdata import is_cancelled
from service.deps import Services
from service.errors import StorageNotFoundError
from tests.unit.bot.conftest import MakeMessage

UPDATES = count(1)


async def stored_job(services: Services, user: EmulatedUser, *, running: bool = False) -> Job:
    repo = services.repo
    await repo.upsert_user(user_id=user.id, chat_id=user.chat_id, username=None)
    job = await repo.create_job(user_id=user.id, chat_id=user.chat_id, file_name="a.csv", file_size=3)
    keys = job_keys(job)
    for key in keys:
        await services.storage.upload_bytes(key, b"a,b", "text/csv")
    await repo.mark_queued(job.id, input_key=keys[0])
    if running:
        await repo.claim_job(job.id, 60)
    return await repo.get_job(job.id)


async def exists(services: Services, key: str, tmp: object) -> bool:
    from pathlib import Path

    try:
        await services.storage.download_to_file(key, Path(str(tmp)))
    except StorageNotFoundError:
        return False
    return True


async def press(emulator: TelegramEmulator, bot: Bot, dp: object, user: EmulatedUser, data: str) -> None:
    """``user`` taps a button with ``data`` under the bot's newest message."""
    message = emulator.bot_messages(user.chat_id)[-1]
    record = emulator.press_button(user.id, message.message_id, data)
    state = emulator.state
    payload = {
        "update_id": next(UPDATES),
        "callback_query": {
            "id": record.id,
            "from": state.user(user.id).to_json(),
            "message": state.message_json(state.chat(user.id).get(message.message_id)),
            "chat_instance": str(user.id),
            "data": data,
        },
    }
    await dp.feed_update(bot, Update.model_validate(payload, context={"bot": bot}))  # type: ignore[attr-defined]


async def send(dp: object, bot: Bot, make_message: MakeMessage, user: EmulatedUser, text: str) -> None:
    update = Update(update_id=next(UPDATES), message=make_message(user, text))
    await dp.feed_update(bot, update)  # type: ignore[attr-defined]


async def test_delete_removes_every_stored_file_and_row_after_confirmation(
    emulator: TelegramEmulator, bot: Bot, services: Services, make_message: MakeMessage, tmp_path: object
) -> None:
    user, other = emulator.create_user(), emulator.create_user()
    jobs = [await stored_job(services, user), await stored_job(services, user, running=True)]
    kept = await stored_job(services, other)
    dp = build_dispatcher(services)

    await send(dp, bot, make_message, user, "/delete")
    confirm = emulator.bot_messages(user.chat_id)[-1]
    assert confirm.reply_markup is not None
    assert all([await exists(services, k, tmp_path) for job in jobs for k in job_keys(job)])
    await press(emulator, bot, dp, user, sign(services.settings, "delete", "all", user.id))

    assert not any([await exists(services, k, tmp_path) for job in jobs for k in job_keys(job)])
    assert await services.repo.list_user_jobs(user.id) == []
    assert await services.repo.get_user_prefs(user.id) is None
    assert all([await exists(services, k, tmp_path) for k in job_keys(kept)])  # another user's stay
    assert "Deleted: 2 jobs" in (emulator.bot_messages(user.chat_id)[-1].text or "")


async def test_cancel_of_a_queued_job_ends_it_and_deletes_its_files(
    emulator: TelegramEmulator, bot: Bot, services: Services, make_message: MakeMessage, tmp_path: object
) -> None:
    user = emulator.create_user()
    job = await stored_job(services, user)
    dp = build_dispatcher(services)
    await send(dp, bot, make_message, user, f"/cancel {job.id}")

    assert is_cancelled(await services.repo.get_job(job.id))
    assert await services.repo.claim_job(job.id, 60) is None  # a queued job never starts
    assert not any([await exists(services, k, tmp_path) for k in job_keys(job)])
    assert "cancelled" in (emulator.bot_messages(user.chat_id)[-1].text or "")


async def test_a_button_signed_for_another_user_cancels_nothing(
    emulator: TelegramEmulator, bot: Bot, services: Services, make_message: MakeMessage, tmp_path: object
) -> None:
    owner, intruder = emulator.create_user(), emulator.create_user()
    job = await stored_job(services, owner)
    dp = build_dispatcher(services)
    await send(dp, bot, make_message, intruder, "/help")  # a bot message to press under
    for data in (
        sign(services.settings, "cancel", job.id, owner.id),  # the owner's button, replayed
        f"cancel:{job.id}:AAAAAAAAAAAAAAAA",  # a forged signature
        sign(services.settings, "cancel", job.id, intruder.id),  # validly signed, not their job
    ):
        await press(emulator, bot, dp, intruder, data)

    assert (await services.repo.get_job(job.id)).status.value == "queued"
    assert all([await exists(services, k, tmp_path) for k in job_keys(job)])
    rejected = services.metrics.registry.get_sample_value("csvbot_callbacks_rejected_total")
    assert rejected == 3


async def test_the_retention_sweep_deletes_old_uploads_files_and_rows(
    emulator: TelegramEmulator, services: Services, tmp_path: object
) -> None:
    user = emulator.create_user()
    old = await stored_job(services, user)
    assert await sweep_once(services, now=utc_now() + timedelta(days=6)) == 0
    assert await sweep_once(services, now=utc_now() + timedelta(days=8)) == 1
    assert not any([await exists(services, k, tmp_path) for k in job_keys(old)])
    assert await services.repo.list_user_jobs(user.id) == []


async def test_command_menus_are_set_per_language(emulator: TelegramEmulator, bot: Bot) -> None:
    await set_command_menus(bot)
    default = {c["command"]: c["description"] for c in emulator.bot_commands()}
    russian = {c["command"]: c["description"] for c in emulator.bot_commands(language_code="ru")}
    kazakh = {c["command"]: c["description"] for c in emulator.bot_commands(language_code="kk")}
    assert set(default) == set(russian) >= {"cancel", "delete", "privacy", "language", "format"}
    assert default["delete"] == "Delete all your files and jobs"
    assert russian["delete"] == kazakh["delete"] == "Удалить все ваши файлы и задания"


async def test_a_menu_telegram_refuses_does_not_keep_the_others_from_being_set(
    emulator: TelegramEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator refuses a code that is not two letters, as the Bot API does."""
    monkeypatch.setattr(menu, "menu_languages", lambda: {None: "en", "sah": "ru", "tt": "ru"})
    await set_command_menus(bot)
    tatar = {c["command"]: c["description"] for c in emulator.bot_commands(language_code="tt")}
    assert tatar["delete"] == "Удалить все ваши файлы и задания"
    assert emulator.stats.calls("setMyCommands", 400) == 1


async def test_a_language_chosen_after_delete_is_kept(
    emulator: TelegramEmulator, bot: Bot, services: Services, make_message: MakeMessage
) -> None:
    """/delete removes the user row; a /language press afterwards (the cache still held the
    deleted row) records the user again and keeps the choice it confirms."""
    user = emulator.create_user()
    await stored_job(services, user)
    dp = build_dispatcher(services)
    await send(dp, bot, make_message, user, "/language")  # caches the user's preferences
    await send(dp, bot, make_message, user, "/delete")
    await press(emulator, bot, dp, user, sign(services.settings, "delete", "all", user.id))
    assert await services.repo.get_user_prefs(user.id) is None

    await send(dp, bot, make_message, user, "/language")
    await press(emulator, bot, dp, user, sign(services.settings, "lang", "ru", user.id))

    prefs = await services.repo.get_user_prefs(user.id)
    assert prefs is not None and prefs.language == "ru"
