"""The command menu (Telegram's "/" button), one per language, set when the bot starts.

Telegram shows a user the menu of their client's language when there is one and the default
menu otherwise; the default is English, like the bot's default language. Each catalogued
language gets its own menu, and every language csvbot answers in another one gets that one's
(:mod:`service.i18n.language`): a Kazakh- or Belarusian-language client sees the Russian commands
the bot speaks in. Telegram takes two-letter (ISO 639-1) codes only, so a Yakut client (``sah``)
sees the default menu; one menu Telegram refuses does not keep the others from being set.
"""

from __future__ import annotations

import asyncio
import logging
import re

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommand

from service.i18n import ENGLISH, LANGUAGES, N_, _, language_for, use_language
from service.i18n.language import RUSSIAN_READING

log = logging.getLogger(__name__)

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("What the bot does")),
    ("jobs", N_("Your recent files")),
    ("job", N_("One job's details and results")),
    ("cancel", N_("Stop a job")),
    ("format", N_("Format of the results")),
    ("language", N_("Language")),
    ("privacy", N_("What is kept, for how long")),
    ("delete", N_("Delete all your files and jobs")),
    ("help", N_("How it works")),
)


def commands_in(language: str) -> list[BotCommand]:
    with use_language(language):
        return [BotCommand(command=name, description=_(text)) for name, text in COMMANDS]


#: What the Bot API accepts as a menu's ``language_code``.
_ISO_639_1 = re.compile(r"[a-z]{2}")


def menu_languages(languages: tuple[str, ...] = LANGUAGES) -> dict[str | None, str]:
    """Telegram language code (``None``: the default menu) → the language of its menu."""
    menus: dict[str | None, str] = {None: ENGLISH}
    for code in sorted(RUSSIAN_READING | set(languages)):
        if _ISO_639_1.fullmatch(code):
            menus[code] = language_for(code, languages=languages)
    return menus


#: Bound on setting all menus: a Telegram that keeps answering 429 must not keep the task alive.
MENU_TIMEOUT_SECONDS = 60.0


async def set_command_menus(bot: Bot) -> None:
    """Set every menu; a failure is logged and the bot goes on (the menu is a convenience)."""
    menus = menu_languages()
    set_ = 0
    try:
        async with asyncio.timeout(MENU_TIMEOUT_SECONDS):
            for code, language in menus.items():
                try:
                    await bot.set_my_commands(commands_in(language), language_code=code)
                    set_ += 1
                except TelegramBadRequest as exc:
                    log.warning(
                        "Telegram refused the command menu of %s: %s",
                        code or "the default",
                        exc.message,
                        extra={"event": "menu_failed", "language_code": code, "error": "bad_request"},
                    )
        log.info("command menus set", extra={"event": "menus_set", "menus": set_, "of": len(menus)})
    except Exception as exc:
        log.warning(
            "could not set the command menus", extra={"event": "menu_failed", "error": type(exc).__name__}
        )
