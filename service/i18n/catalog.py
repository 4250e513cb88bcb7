"""The gettext catalogues, compiled from their ``.po`` files when the process starts.

Only the ``.po`` files are committed (``service/i18n/locales/<locale>/LC_MESSAGES/csvbot.po``):
Babel compiles each into memory the first time a process asks for a translation, so there is no
binary ``.mo`` to go stale next to its source and no build step an installation could skip. It
takes a few milliseconds per catalogue. A catalogue that does not parse fails start-up loudly.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.units import format_unit

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "csvbot"
#: The language the source strings are written in; its catalogue may leave entries empty.
SOURCE_LOCALE = "en"


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as stream:
        return read_po(stream, locale=locale, domain=DOMAIN, abort_invalid=True)


def compile_catalog(catalog: Catalog) -> gettext.GNUTranslations:
    """The catalogue as gettext reads it, compiled in memory (fuzzy entries left out)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class PoI18n(I18n):
    """aiogram's :class:`I18n`, fed from ``.po`` files instead of prebuilt ``.mo`` files."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for folder in sorted(self.path.iterdir()):
            if (folder / "LC_MESSAGES" / f"{self.domain}.po").is_file():
                translations[folder.name] = compile_catalog(read_catalog(folder.name))
        return translations


@cache
def i18n() -> PoI18n:
    """The process's translations: static data shipped with the code, loaded once.

    Babel's locale data of each language is loaded here too: loaded lazily on a job's first
    number, it blocked the event loop for most of a second."""
    translations = PoI18n(path=LOCALES_DIR, default_locale=SOURCE_LOCALE, domain=DOMAIN)
    for locale in translations.available_locales:
        format_decimal(1.5, locale=locale)
        format_unit(1, "digital-megabyte", "short", locale=locale)
    return translations
