"""The command menu (Telegram's "/" button), one per language, set when the bot starts.

Telegram shows a user the menu of their client's language when there is one and the default
menu otherwise; the default is English, like the bot's default language. The menu of Russian is
also set for the languages csvbot answers in Russian (:mod:`service.i18n.language`), so a
Kazakh- or Belarusian-language client sees the same commands the bot speaks in.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.types import BotCommand

from service.i18n import ENGLISH, N_, RUSSIAN, _, use_language
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


def menu_languages() -> dict[str | None, str]:
    """Telegram language code (``None``: the default menu) → the language of its menu."""
    menus: dict[str | None, str] = {None: ENGLISH, ENGLISH: ENGLISH}
    menus.update({code: RUSSIAN for code in sorted(RUSSIAN_READING)})
    return menus


#: Bound on setting all menus: a Telegram that keeps answering 429 must not keep the task alive.
MENU_TIMEOUT_SECONDS = 60.0


async def set_command_menus(bot: Bot) -> None:
    """Set every menu; a failure is logged and the bot goes on (the menu is a convenience)."""
    try:
        async with asyncio.timeout(MENU_TIMEOUT_SECONDS):
            for code, language in menu_languages().items():
                await bot.set_my_commands(commands_in(language), language_code=code)
        log.info("command menus set", extra={"event": "menus_set", "menus": len(menu_languages())})
    except Exception as exc:
        log.warning(
            "could not set the command menus", extra={"event": "menu_failed", "error": type(exc).__name__}
        )
