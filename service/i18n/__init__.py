"""csvbot in its users' languages: gettext catalogues through aiogram's i18n, Babel formats.

Every user-facing text is written in English inside ``_()`` (or ``ngettext`` for counts, ``N_``
for constants translated where they are shown), with ``{name}`` placeholders filled by
``.format()``. The current language is aiogram's context variable: the bot's middleware sets it
per update, a worker sets it per job (:func:`use_language`); threads started with
``asyncio.to_thread`` inherit it. Catalogues: ``service/i18n/locales/``; ``scripts/i18n`` extracts
new strings and updates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from service.i18n.catalog import i18n
from service.i18n.language import ENGLISH, LANGUAGE_NAMES, LANGUAGES, RUSSIAN, language_for


def _(message: str) -> str:
    """``message`` in the current language (``message`` itself when it has no translation)."""
    return i18n().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` the current language uses for ``n``."""
    return i18n().gettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a constant for extraction; translate it with ``_()`` where it is shown."""
    return message


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Speak ``language`` in this context (and the tasks and threads it starts)."""
    with i18n().use_locale(language if language in LANGUAGES else ENGLISH):
        yield


def current_language() -> str:
    return i18n().current_locale


__all__ = [
    "ENGLISH",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "N_",
    "RUSSIAN",
    "_",
    "current_language",
    "language_for",
    "ngettext",
    "use_language",
]
