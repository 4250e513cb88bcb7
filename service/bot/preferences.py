"""/language and /format: the user's language and the format of their results, as buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from service import messages
from service.bot.callbacks import buttons
from service.db.userdata import UserPrefs
from service.deps import Services
from service.exports import OUTPUT_FORMATS, format_for
from service.i18n import LANGUAGE_NAMES, LANGUAGES, current_language, use_language
from service.i18n.middleware import PrefsCache


def build_router() -> Router:
    router = Router(name="preferences")
    router.message.register(on_language, Command("language"), flags={"handler": "language"})
    router.message.register(on_format, Command("format"), flags={"handler": "format"})
    return router


async def on_language(message: Message, services: Services) -> None:
    assert message.from_user is not None
    rows = [[(LANGUAGE_NAMES[lang], "lang", lang) for lang in LANGUAGES]]
    markup = buttons(services.settings, message.from_user.id, rows)
    await message.answer(messages.language_prompt(), reply_markup=markup)


async def on_format(message: Message, services: Services, user_prefs: UserPrefs | None = None) -> None:
    assert message.from_user is not None
    current = format_for(user_prefs.output_format if user_prefs else None, current_language())
    rows = [[(messages.format_name(fmt), "fmt", fmt)] for fmt in OUTPUT_FORMATS]
    markup = buttons(services.settings, message.from_user.id, rows)
    await message.answer(messages.format_prompt(current), reply_markup=markup)


async def _stored(
    query: CallbackQuery, services: Services, change: Callable[[], Awaitable[UserPrefs | None]]
) -> UserPrefs | None:
    """Make ``change``; when the user has no row (their data was deleted since the buttons were
    sent), record the user again first, so a choice confirmed to them is a choice kept."""
    prefs = await change()
    if prefs is None:
        user = query.from_user
        await services.repo.remember_user(
            user_id=user.id,
            chat_id=query.message.chat.id if query.message is not None else user.id,
            username=user.username,
            language_code=user.language_code,
        )
        prefs = await change()
    return prefs


async def on_language_press(
    query: CallbackQuery, language: str, services: Services, cache: PrefsCache | None
) -> None:
    if language not in LANGUAGES:
        await query.answer(messages.button_expired())
        return
    prefs = await _stored(query, services, lambda: services.repo.set_language(query.from_user.id, language))
    if cache is not None and prefs is not None:  # this process sees the change at once
        cache.put(prefs)
    await query.answer()
    with use_language(language):
        if query.message is not None:
            await query.message.answer(messages.language_set())


async def on_format_press(
    query: CallbackQuery, output_format: str, services: Services, cache: PrefsCache | None
) -> None:
    if output_format not in OUTPUT_FORMATS:
        await query.answer(messages.button_expired())
        return
    prefs = await _stored(
        query, services, lambda: services.repo.set_output_format(query.from_user.id, output_format)
    )
    if cache is not None and prefs is not None:  # this process sees the change at once
        cache.put(prefs)
    await query.answer()
    if query.message is not None:
        await query.message.answer(messages.format_set(output_format))
