"""Versioned SQL migrations: the files, and the bookkeeping both backends share.

Migrations live in ``service/db/migrations/`` as ``NNN_name.<dialect>.sql`` — one file per
version and dialect (``postgres``, ``sqlite``). The schema cannot be written once for both: Postgres
gets ``timestamptz`` and ``jsonb`` (real types that operators can query and index), SQLite stores
ISO-8601 text and JSON text. Every version must exist for both dialects (a unit test checks), and
an applied version is recorded in ``schema_migrations`` so running them again does nothing.

Each backend applies pending versions under a lock (a Postgres advisory lock, SQLite's write lock),
because the bot and the workers all migrate at start-up and may start together.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

DIALECTS: tuple[str, ...] = ("postgres", "sqlite")
_FILE_NAME = re.compile(r"^(?P<version>\d{3})_(?P<name>[a-z0-9_]+)\.(?P<dialect>[a-z]+)\.sql$")

#: Applied versions. Plain types, so the same statement works on both dialects.
SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""
APPLIED_VERSIONS = "SELECT version FROM schema_migrations"
RECORD_VERSION = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :at)"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: str) -> list[Migration]:
    """The migrations of ``dialect`` in version order; versions are unique, from 1 (gaps allowed)."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, not {dialect!r}")
    folder = resources.files("service.db").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None or match["dialect"] != dialect:
            continue
        found.append(Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    # Unique and starting at 1; gaps are allowed, because versions are reserved by changes
    # developed side by side and land in any order. A version is applied when it is missing from
    # schema_migrations, whatever its number, so a lower one that lands later still runs.
    if len(set(versions)) != len(versions) or (versions and versions[0] != 1):
        raise RuntimeError(f"{dialect} migrations must have unique versions from 1, found {versions}")
    return found


def pending(migrations: list[Migration], applied: set[int]) -> list[Migration]:
    return [m for m in migrations if m.version not in applied]


def split_statements(script: str) -> list[str]:
    """Split a SQL script into statements (SQLite runs one per call inside a transaction).

    ``sqlite3.complete_statement`` knows about quotes, comments and trigger bodies, so a ``;``
    inside any of them does not end a statement.
    """
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statement = current.strip()
            if _has_code(statement):
                statements.append(statement)
            current = ""
    if _has_code(current):
        raise ValueError("migration ends with an incomplete statement (missing ';'?)")
    return statements


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())
