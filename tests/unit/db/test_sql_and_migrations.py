"""Portable SQL, migration files and the state machine's pure rules."""

from __future__ import annotations

import contextlib

import pytest

from service.db import sql
from service.db.instrumentation import QueryInstrumentation
from service.db.migrator import DIALECTS, load_migrations, split_statements
from service.db.models import JobStatus, final_status_for, input_error_kinds
from service.errors import all_error_kinds
from telemetry.metrics import Metrics


def test_named_parameters_become_numbered_ones_and_a_repeated_name_reuses_its_number() -> None:
    text, names = sql.to_positional("UPDATE t SET a = :now, b = :id WHERE c < :now AND d = 'x:y'")
    assert text == "UPDATE t SET a = $1, b = $2 WHERE c < $1 AND d = 'x:y'"
    assert names == ("now", "id")


def test_every_statement_translates_for_postgres_without_leftover_placeholders() -> None:
    statements = [v for k, v in vars(sql).items() if k.isupper() and isinstance(v, str)]
    assert len(statements) >= 10
    for statement in statements:
        text, names = sql.to_positional(statement)
        assert ":" not in text.replace("::", ""), statement
        assert len(set(names)) == len(names)


def test_every_migration_version_exists_for_every_dialect() -> None:
    versions = {dialect: [(m.version, m.name) for m in load_migrations(dialect)] for dialect in DIALECTS}
    assert versions["postgres"] == versions["sqlite"] and versions["postgres"][0] == (1, "init")


def test_sqlite_migrations_split_into_whole_statements() -> None:
    for migration in load_migrations("sqlite"):
        statements = split_statements(migration.sql)
        assert statements and all(s.rstrip().endswith(";") for s in statements)
    assert split_statements("-- note; not code\nCREATE TABLE a (x TEXT DEFAULT ';');\n") == [
        "-- note; not code\nCREATE TABLE a (x TEXT DEFAULT ';');"
    ]
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE a (x TEXT)")


def test_input_error_kinds_end_rejected_and_everything_else_failed() -> None:
    assert {"not_csv", "empty_file", "too_large", "malformed_csv"} <= input_error_kinds()
    assert input_error_kinds() < set(all_error_kinds())
    assert final_status_for("too_many_rows") is JobStatus.REJECTED
    for kind in ("internal", "storage_timeout", "db_unavailable"):
        assert final_status_for(kind) is JobStatus.FAILED


def test_final_statuses_are_exactly_done_failed_and_rejected() -> None:
    assert {s for s in JobStatus if s.is_final} == {JobStatus.DONE, JobStatus.FAILED, JobStatus.REJECTED}


async def test_an_undeclared_query_name_is_refused_before_it_becomes_a_label(metrics: Metrics) -> None:
    instrumentation: QueryInstrumentation[None] = QueryInstrumentation(
        metrics, db_system="sqlite", is_unavailable=lambda exc: False
    )
    with pytest.raises(ValueError, match="DB_QUERIES"):
        async with instrumentation.query("drop_everything", contextlib.nullcontext):
            pass
