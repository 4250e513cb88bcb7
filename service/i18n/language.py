"""Which of csvbot's languages a Telegram user gets.

An explicit choice (``/language``) wins. Otherwise Telegram's ``language_code`` decides: Russian
for ``ru`` and for the languages whose speakers commonly read Russian — Belarusian, Kazakh,
Kyrgyz, Tajik, Uzbek, Turkmen, Armenian and Azerbaijani (CIS countries where Russian is an
official or the usual second language) and the languages of Russia's republics (Tatar, Bashkir,
Chuvash, Yakut, Chechen, Ossetian). Ukrainian is deliberately *not* on the list: many Ukrainian
users do not want to be addressed in Russian, so they get English and can pick Russian with
``/language``. Everyone else gets English.
"""

from __future__ import annotations

RUSSIAN = "ru"
ENGLISH = "en"
#: The languages csvbot speaks (each has a catalogue), in menu order.
LANGUAGES: tuple[str, ...] = (RUSSIAN, ENGLISH)
#: What each language is called in itself, for the /language buttons.
LANGUAGE_NAMES = {RUSSIAN: "Русский", ENGLISH: "English"}

RUSSIAN_READING = frozenset(
    {"ru", "be", "kk", "ky", "tg", "uz", "tk", "hy", "az", "tt", "ba", "cv", "sah", "ce", "os"}
)


def language_for(language_code: str | None, chosen: str | None = None) -> str:
    """The user's language: ``chosen`` if it is one of ours, else from ``language_code``."""
    if chosen in LANGUAGES:
        return chosen
    base = (language_code or "").replace("_", "-").split("-", 1)[0].lower()
    return RUSSIAN if base in RUSSIAN_READING else ENGLISH
