"""The catalogues are complete, consistent with the code, and what gettext loads from them."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import PoFileError

from service.i18n import catalog, language_for, use_language
from service.i18n.catalog import LOCALES_DIR, SOURCE_LOCALE, compile_catalog, i18n, read_catalog
from service.i18n.extract import template as _template

template = cache(_template)

LOCALES = sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir())
TRANSLATED = [locale for locale in LOCALES if locale != SOURCE_LOCALE]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _forms(message_string: object) -> list[str]:
    return list(message_string) if isinstance(message_string, tuple | list) else [str(message_string)]


def test_there_are_russian_and_english_catalogues() -> None:
    assert {"ru", "en"} <= set(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_has_exactly_the_messages_of_the_code(locale: str) -> None:
    """A new _() string without a catalogue entry, or an entry the code no longer uses, fails:
    run scripts/i18n."""
    code = {m.id if isinstance(m.id, str) else m.id[0] for m in template() if m.id}
    catalogue = {m.id if isinstance(m.id, str) else m.id[0] for m in read_catalog(locale) if m.id}
    assert sorted(code - catalogue) == [], "messages missing from the catalogue"
    assert sorted(catalogue - code) == [], "catalogue entries no longer in the code"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated_and_not_fuzzy(locale: str) -> None:
    catalog = read_catalog(locale)
    untranslated = [m.id for m in catalog if m.id and (not all(_forms(m.string)) or m.fuzzy)]
    assert untranslated == []
    assert all(len(_forms(m.string)) == catalog.num_plurals for m in catalog if m.id and m.pluralizable)


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_have_the_placeholders_of_their_source(locale: str) -> None:
    wrong = []
    for message in read_catalog(locale):
        if not message.id:
            continue
        sources = _forms(message.id)
        expected = set().union(*(_fields(s) for s in sources))
        for form in _forms(message.string):
            if _fields(form) != expected:
                wrong.append((sources[0], form))
    assert wrong == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_loaded_translations_are_the_catalogue(locale: str) -> None:
    """What the running bot says is what the .po file says (the in-memory compile loses nothing)."""
    loaded = i18n().locales[locale]
    compiled = compile_catalog(read_catalog(locale))
    for message in read_catalog(locale):
        if message.id and isinstance(message.id, str):
            assert loaded.gettext(message.id) == message.string == compiled.gettext(message.id)


def test_russian_plural_forms_follow_russian_grammar() -> None:
    from service.i18n import ngettext

    with use_language("ru"):
        words = [ngettext("{n} row", "{n} rows", n).format(n=n) for n in (1, 2, 5, 11, 21, 22, 25)]
    assert words == ["1 строка", "2 строки", "5 строк", "11 строк", "21 строка", "22 строки", "25 строк"]


@pytest.mark.parametrize(
    ("code", "chosen", "expected"),
    [
        ("ru", None, "ru"),
        ("ru-RU", None, "ru"),
        ("kk", None, "ru"),
        ("be", None, "ru"),
        ("uz", None, "ru"),
        ("uk", None, "en"),
        ("de", None, "en"),
        (None, None, "en"),
        ("ru", "en", "en"),
        ("en", "ru", "ru"),
        ("en", "xx", "en"),
    ],
)
def test_the_language_comes_from_the_choice_then_telegram(
    code: str | None, chosen: str | None, expected: str
) -> None:
    assert language_for(code, chosen) == expected


def test_numbers_sizes_and_times_follow_the_language() -> None:
    from datetime import UTC, datetime

    from service.i18n import fmt

    moment = datetime(2026, 12, 1, 17, 43, tzinfo=UTC)
    with use_language("ru"):
        ru = (fmt.number(1234567.5), fmt.size(20 * 1024 * 1024), fmt.share(0.42), fmt.when(moment))
    with use_language("en"):
        en = (fmt.number(1234567.5), fmt.size(20 * 1024 * 1024), fmt.share(0.42), fmt.when(moment))
    assert ru == ("1\xa0234\xa0567,5", "20 МБ", "42\xa0%", "01.12.2026, 17:43 UTC")
    assert en[:3] == ("1,234,567.5", "20 MB", "42%")
    assert en[3].startswith("12/1/26")


def test_a_catalogue_that_does_not_parse_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "xx" / "LC_MESSAGES"
    broken.mkdir(parents=True)
    (broken / "csvbot.po").write_text('msgid "a"\nmsgstr "b"\nthis is no keyword\n')
    monkeypatch.setattr(catalog, "LOCALES_DIR", tmp_path)
    with pytest.raises(PoFileError):
        read_catalog("xx")
