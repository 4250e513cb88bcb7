"""Secrets never reach a log line: every shape, wherever it sits in the record.

Lines are produced exactly as the writer thread produces them — capture, JSON formatting, then
redaction of the finished text — by a synchronous handler, so each case is a plain function call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import orjson
import pytest

from telemetry.logging.capture import RecordShape, capture
from telemetry.logging.format import JsonLineFormatter
from telemetry.logging.redaction import MASK, Redactor, default_redactor, register_secret

BOT_ID = "123456789"
TOKEN_SECRET = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
TOKEN = f"{BOT_ID}:{TOKEN_SECRET}"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImFiY2RlZmdoIiwicm9sZSI6ImFub24ifQ"
    ".dc_X5iR_VP_qT0zsiyj_I_OZ2T9FtRU2BBNWN8Bu4GE"
)
REGISTERED = "plain-db-password-42"
REGISTERED_NEEDS_ESCAPING = 'pa"ss\\word-77'

#: (case name, text that carries the secret, the secret itself)
SHAPES: list[tuple[str, str, str]] = [
    ("bot token", f"token is {TOKEN}", TOKEN_SECRET),
    ("bot token, Telegram docs example", "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "ABC-DEF1234gh"),
    ("token in Bot API URL", f"POST https://api.telegram.org/bot{TOKEN}/sendMessage", TOKEN_SECRET),
    ("token in file URL", f"GET https://api.telegram.org/file/bot{TOKEN}/documents/f.csv", TOKEN_SECRET),
    (
        "short token in Bot API URL",
        f"https://api.telegram.org/bot{BOT_ID}:not-a-full-token/getMe",
        "not-a-full",
    ),
    ("JWT (Supabase anon/service key)", f"apikey={JWT}", JWT.split(".")[1]),
    ("Supabase secret key", "key sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz", "N7UND0UgjKTVK"),
    ("Supabase publishable key", "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgx", "ACJWlzQHlZjB"),
    (
        "password in a PostgreSQL DSN",
        "postgresql://postgres.abcdefgh:S3cr3t!p@ss@aws-0-eu.pooler.supabase.com:5432/postgres",
        "S3cr3t!p@ss",
    ),
    ("password in a Redis URL", "redis://:r3disPassw0rd@127.0.0.1:6379/0", "r3disPassw0rd"),
    ("bearer token", "Authorization: Bearer abc.DEF-123_xyz~tok", "abc.DEF-123_xyz"),
    ("basic credentials", "authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ("registered secret", f"connecting with {REGISTERED}", REGISTERED),
    (
        "registered secret with quote and backslash",
        f"pw={REGISTERED_NEEDS_ESCAPING};",
        REGISTERED_NEEDS_ESCAPING,
    ),
]


class WriterLikeHandler(logging.Handler):
    """capture → JSON → redaction, as the writer thread does it, but synchronously."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor
        self.json = JsonLineFormatter("csvbot-test")
        self.shape = RecordShape.of_this_python()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.json.format_entry(capture(record, self.shape))
        self.lines.append(self.redactor.redact(line))


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, WriterLikeHandler]]:
    redactor = Redactor()
    redactor.register_secret(REGISTERED)
    redactor.register_secret(REGISTERED_NEEDS_ESCAPING)
    handler = WriterLikeHandler(redactor)
    logger = logging.getLogger("csvbot.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, handler
    logger.removeHandler(handler)
    logger.propagate = True


def _in_message(log: logging.Logger, text: str) -> None:
    log.info("calling out: " + text)


def _in_args(log: logging.Logger, text: str) -> None:
    log.info("calling out: %s (attempt %d)", text, 2)


def _in_extra(log: logging.Logger, text: str) -> None:
    log.info("calling out", extra={"detail": text})


def _in_nested_extra(log: logging.Logger, text: str) -> None:
    log.info("calling out", extra={"request": {"headers": [text]}})


def _in_exception(log: logging.Logger, text: str) -> None:
    try:
        try:
            raise ConnectionError(text)
        except ConnectionError as cause:
            raise RuntimeError("storage call failed: " + text) from cause
    except RuntimeError:
        log.exception("upload failed")


PLACES: list[Callable[[logging.Logger, str], None]] = [
    _in_message,
    _in_args,
    _in_extra,
    _in_nested_extra,
    _in_exception,
]


@pytest.mark.parametrize("place", PLACES, ids=lambda f: f.__name__[4:])
@pytest.mark.parametrize(("shape", "text", "secret"), SHAPES, ids=[s[0] for s in SHAPES])
def test_secret_never_reaches_the_line(
    written: tuple[logging.Logger, WriterLikeHandler],
    place: Callable[[logging.Logger, str], None],
    shape: str,
    text: str,
    secret: str,
) -> None:
    log, handler = written
    place(log, text)
    (line,) = handler.lines
    json.loads(line)  # still one valid JSON object after masking
    assert MASK in line
    for spelling in (secret, orjson.dumps(secret).decode()[1:-1]):
        assert spelling not in line, f"{shape}: {spelling!r} leaked into {line}"


def test_the_exception_keeps_its_fields_while_losing_the_secret(
    written: tuple[logging.Logger, WriterLikeHandler],
) -> None:
    log, handler = written
    _in_exception(log, f"https://api.telegram.org/bot{TOKEN}/getFile")
    data = json.loads(handler.lines[0])
    assert data["exc_type"] == "RuntimeError"
    assert data["exc_message"] == f"storage call failed: https://api.telegram.org/bot{BOT_ID}:***/getFile"
    assert "ConnectionError" in data["stack"] and TOKEN_SECRET not in data["stack"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (TOKEN, f"{BOT_ID}:***"),
        (f"https://api.telegram.org/bot{TOKEN}/getMe", f"https://api.telegram.org/bot{BOT_ID}:***/getMe"),
        ("postgresql://app:pw@db:5432/csvbot", "postgresql://app:***@db:5432/csvbot"),
        ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("Authorization: Bearer tok123", "Authorization: Bearer ***"),
        ('{"Authorization": "Token abc123"}', '{"Authorization": "Token ***"}'),
        ("sb_secret_abc123", "sb_secret_***"),
        (JWT, MASK),
    ],
)
def test_only_the_secret_part_is_masked(text: str, masked: str) -> None:
    assert Redactor().redact(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "https://example.com:8443/files/report.csv",
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "took 12:34:56.789 to read 1234567 rows from chat 987654321",
        "basic statistics for column price",
        '{"timestamp":"2025-01-31T12:00:00.123456Z","rows":12,"trace_id":"0af7651916cd43dd8448eb211c80319c"}',
    ],
)
def test_ordinary_text_passes_unchanged(text: str) -> None:
    assert Redactor().redact(text) == text


def test_masking_an_already_masked_line_changes_nothing() -> None:
    redactor = Redactor()
    once = redactor.redact(f"Authorization: Bearer abc {TOKEN} postgresql://u:p@h/db")
    assert redactor.redact(once) == once


def test_an_empty_secret_is_ignored_rather_than_masking_everything() -> None:
    redactor = Redactor()
    redactor.register_secret("")
    assert redactor.redact("nothing secret here") == "nothing secret here"


def test_register_secret_feeds_the_process_wide_redactor() -> None:
    try:
        register_secret("process-wide-s3cret")
        assert default_redactor().redact("pw process-wide-s3cret!") == "pw ***!"
    finally:
        default_redactor().clear_secrets()
