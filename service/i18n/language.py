"""Which of csvbot's languages a Telegram user gets.

The languages are the catalogues: every folder of ``service/i18n/locales/`` with a ``csvbot.po``
is one (another language is one more catalogue file, named by its ISO 639-1 code).

An explicit choice (``/language``) wins. Otherwise Telegram's ``language_code`` decides: its own
language when csvbot has a catalogue for it; else Russian for the languages whose speakers
commonly read Russian — Belarusian, Kazakh, Kyrgyz, Tajik, Uzbek, Turkmen, Armenian and
Azerbaijani (CIS countries where Russian is an official or the usual second language) and the
languages of Russia's republics (Tatar, Bashkir, Chuvash, Yakut, Chechen, Ossetian). Ukrainian is
deliberately *not* on the list: many Ukrainian users do not want to be addressed in Russian, so
they get English and can pick Russian with ``/language``. Everyone else gets English.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale, UnknownLocaleError

from service.i18n.catalog import DOMAIN, LOCALES_DIR

RUSSIAN = "ru"
ENGLISH = "en"

RUSSIAN_READING = frozenset(
    {"ru", "be", "kk", "ky", "tg", "uz", "tk", "hy", "az", "tt", "ba", "cv", "sah", "ce", "os"}
)


def catalogued_languages(locales_dir: Path = LOCALES_DIR) -> tuple[str, ...]:
    """Every language with a catalogue, in menu order: Russian and English first, then the rest."""
    found = sorted(
        folder.name for folder in locales_dir.iterdir() if (folder / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
    )
    first = [code for code in (RUSSIAN, ENGLISH) if code in found]
    return (*first, *(code for code in found if code not in first))


def own_name(language: str) -> str:
    """What ``language`` is called in itself ("Русский"), for the /language buttons."""
    try:
        name = Locale.parse(language).get_display_name(language)
    except (ValueError, UnknownLocaleError):
        return language
    return (name or language)[:1].upper() + (name or language)[1:]


#: The languages csvbot speaks, in menu order.
LANGUAGES: tuple[str, ...] = catalogued_languages()
LANGUAGE_NAMES = {language: own_name(language) for language in LANGUAGES}


def language_for(
    language_code: str | None, chosen: str | None = None, languages: tuple[str, ...] = LANGUAGES
) -> str:
    """The user's language: ``chosen`` if it is one of ours, else from ``language_code``."""
    if chosen in languages:
        return chosen
    base = (language_code or "").replace("_", "-").split("-", 1)[0].lower()
    if base in languages:
        return base
    return RUSSIAN if base in RUSSIAN_READING else ENGLISH
