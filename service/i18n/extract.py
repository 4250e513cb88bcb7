"""Keep the catalogues in step with the code: ``python -m service.i18n.extract`` (``scripts/i18n``).

Collects every ``_()``, ``ngettext()`` and ``N_()`` string under ``service/`` with Babel, plus the
error classes' ``user_message`` defaults, then updates each ``.po`` file: new strings appear
untranslated (the catalogue test then fails until someone translates them), strings gone from the
code are dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from service.errors import CsvbotError
from service.i18n.catalog import DOMAIN, LOCALES_DIR, po_path, read_catalog

SOURCE_DIR = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def error_defaults() -> set[str]:
    """The ``user_message`` of every error class that sets its own."""
    found: set[str] = set()
    stack: list[type[CsvbotError]] = [CsvbotError]
    while stack:
        cls = stack.pop()
        if "user_message" in vars(cls):
            found.add(cls.user_message)
        stack.extend(cls.__subclasses__())
    return found


def template() -> Catalog:
    """Every message the code can show, as a catalogue without translations."""
    catalog = Catalog(domain=DOMAIN, project="csvbot")
    for filename, lineno, message, comments, _context in extract_from_dir(
        SOURCE_DIR, method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        catalog.add(message, locations=[(f"service/{filename}", lineno)], auto_comments=comments)
    for message in sorted(error_defaults()):
        catalog.add(message, locations=[("service/errors.py", 1)])
    return catalog


def update(locale: str) -> Catalog:
    catalog = read_catalog(locale)
    catalog.update(template(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    return catalog


def main() -> int:
    for folder in sorted(LOCALES_DIR.iterdir()):
        if folder.is_dir():
            catalog = update(folder.name)
            with po_path(folder.name).open("wb") as stream:
                write_po(stream, catalog, width=100, sort_output=True, include_lineno=False)
            missing = sum(1 for m in catalog if m.id and not m.string)
            print(f"{folder.name}: {len(catalog)} messages, {missing} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
