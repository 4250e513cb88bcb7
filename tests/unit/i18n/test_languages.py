"""The languages are the catalogues: one more ``csvbot.po`` is one more language, in the menus,
the /language buttons and the choice from Telegram's ``language_code``."""

from __future__ import annotations

from pathlib import Path

from service.bot.menu import menu_languages
from service.i18n.language import LANGUAGE_NAMES, LANGUAGES, catalogued_languages, language_for


def _catalogue(root: Path, code: str) -> None:
    folder = root / code / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "csvbot.po").write_text('msgid ""\nmsgstr ""\n')


def test_every_folder_with_a_catalogue_is_a_language(tmp_path: Path) -> None:
    for code in ("uk", "en", "ru", "de"):
        _catalogue(tmp_path, code)
    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)  # no catalogue file: not a language

    assert catalogued_languages(tmp_path) == ("ru", "en", "de", "uk")


def test_the_shipped_languages_are_named_in_themselves() -> None:
    assert LANGUAGES == ("ru", "en")
    assert LANGUAGE_NAMES == {"ru": "Русский", "en": "English"}


def test_a_catalogued_language_is_spoken_to_its_own_users() -> None:
    languages = ("ru", "en", "uk", "kk")
    assert language_for("uk", languages=languages) == "uk"
    assert language_for("kk-KZ", languages=languages) == "kk"  # its own before Russian
    assert language_for("be", languages=languages) == "ru"
    assert language_for("de", languages=languages) == "en"
    assert language_for("ru", chosen="uk", languages=languages) == "uk"


def test_menus_cover_every_catalogue_and_only_two_letter_codes() -> None:
    menus = menu_languages(("ru", "en", "uk"))
    assert menus[None] == "en"
    assert menus["uk"] == "uk"
    assert menus["kk"] == "ru"
    assert "sah" not in menus  # Telegram takes ISO 639-1 codes only
    assert all(code is None or len(code) == 2 for code in menus)
