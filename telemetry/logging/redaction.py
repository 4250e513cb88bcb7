"""Masking of secrets in finished log lines.

The listener thread runs :meth:`Redactor.redact` over a whole batch of serialized JSON lines, once,
just before the batch is written: message, arguments, ``extra`` fields, exception message and stack
all end up in that text, so one pass covers every place a secret can hide, and none of the cost
lands on the thread that logged.

Working on serialized JSON shapes the patterns: JSON escapes ``"`` and ``\\`` and turns a newline
into the two characters ``\\n``, so

* a neighbour such as ``\\n`` in front of a token is ``n`` followed by digits — the token pattern
  anchors on its colon instead of a word boundary;
* password patterns accept an escape pair (``\\x``) but stop at an unescaped ``"``, so a match can
  never run past the end of one JSON string into the next field;
* every registered secret is also registered in its JSON-escaped spelling.

Each pattern starts with a literal (``:``, ``eyJ``, ``sb_``, ``://``, ``/bot``, ``earer``,
``uthorization``) so that ``re`` scans for it with its fast literal search: the whole set costs
about 0.4 µs per line of a batch.

What is masked (``***`` replaces the secret, the harmless part around it stays readable):

* Telegram bot tokens ``123456789:AAE…`` — the 35-character secret after ``<bot id>:``;
* the token inside Bot API URLs, ``/bot<token>/`` and ``/file/bot<token>/``;
* JWTs ``eyJ….eyJ….…`` — this covers Supabase's legacy anon and service-role keys;
* Supabase API keys ``sb_secret_…`` and ``sb_publishable_…``;
* passwords in URLs and DSNs: ``postgresql://user:***@host``, ``redis://:***@host``;
* ``Bearer <token>`` anywhere, and the credential after ``Authorization:`` whatever its scheme;
* any value passed to :func:`register_secret` (the settings' ``SecretStr`` values at start-up).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

__all__ = ["MASK", "Redactor", "default_redactor", "register_secret"]

MASK = "***"


@dataclass(frozen=True)
class _Rule:
    """One secret shape: run ``pattern`` only if the text contains one of ``keywords``."""

    name: str
    pattern: re.Pattern[str]
    replacement: str
    #: Cheap substring tests that gate the regex; empty means "always run" (literal-led patterns
    #: are already fast to scan).
    keywords: tuple[str, ...] = ()


# A JSON-string-safe "credential character": anything but whitespace, quote, slash, backslash —
# or an escape pair such as \" inside the string.
_CRED = r'(?:[^\s"/\\]|\\.)'

_RULES: tuple[_Rule, ...] = (
    # Bot API URLs first: the token there may be malformed or percent-encoded, and after this rule
    # the generic token rule finds nothing left to do in a URL.
    _Rule(
        "telegram_url_token",
        re.compile(r"/bot([0-9]+)(?::|%3[Aa])[A-Za-z0-9_-]+"),
        r"/bot\1:" + MASK,
    ),
    # "<bot id>:<secret>". The bot id (public: it is the bot's user id) stays; the secret goes.
    # Real secrets have 35 characters; 30+ also catches the 34 of Telegram's documentation example.
    # Anchored on the colon; five digits before it rule out look-alikes such as "sha256:<hex>".
    _Rule(
        "telegram_token",
        re.compile(r":(?<=[0-9]{5}:)[A-Za-z0-9_-]{30,}"),
        ":" + MASK,
    ),
    _Rule(
        "jwt",
        re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
        MASK,
    ),
    _Rule(
        "supabase_key",
        re.compile(r"sb_(secret|publishable)_[A-Za-z0-9_-]+"),
        r"sb_\1_" + MASK,
    ),
    # scheme://user:password@host — the user part may be empty (redis://:password@host). The
    # password may contain "@" (greedy up to the last one before the host), never whitespace,
    # "/" or an unescaped quote.
    _Rule(
        "url_password",
        re.compile(r"(://[^\s\"/@:\\]*:)" + _CRED + r"+@"),
        r"\1" + MASK + "@",
    ),
    # The two rules below lead with a literal ("earer", "uthorization") so that re scans for it
    # fast; the lookbehind then checks the first letter. A case-insensitive pattern would make
    # the scan ~50x slower. All-caps spellings are left to the other rules.
    _Rule(
        "bearer",
        re.compile(r"earer(?<=[Bb]earer)(\s+)[A-Za-z0-9._~+/=-]+"),
        r"earer\1" + MASK,
    ),
    # "Authorization: <scheme> <credential>", "authorization=...", {"Authorization": "..."}:
    # keep the header name and scheme, mask the credential.
    _Rule(
        "authorization_header",
        re.compile(
            r"uthorization(?<=[Aa]uthorization)(\\?[\"']?\s*[:=]\s*\\?[\"']?\s*"
            # Atomic group: once a scheme word is read it is never taken for the credential.
            r"(?>(?:(?:[Bb]earer|[Bb]asic|[Dd]igest|[Tt]oken)\s+)?))(?!\*\*\*)[^\s\"'\\,;}]+"
        ),
        r"uthorization\1" + MASK,
    ),
)


class Redactor:
    """Masks built-in secret shapes plus every registered secret value.

    Thread-safe: :meth:`register_secret` builds a new pattern and swaps it in with one attribute
    assignment, so the listener sees either the old or the new set, never a half-built one.
    """

    def __init__(self, rules: Iterable[_Rule] = _RULES) -> None:
        self._rules = tuple(rules)
        self._secrets: frozenset[str] = frozenset()
        self._secrets_pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register_secret(self, value: str) -> None:
        """Mask ``value`` wherever it appears from now on. Empty values are ignored.

        Values the built-in shapes already mask completely (a bot token, a JWT, an ``sb_`` key)
        are not added: they would only cost another scan per batch.
        """
        if not value:
            return
        spellings = {value, orjson.dumps(value).decode()[1:-1]}
        new = {s for s in spellings if s in self._redact_builtin(s)}
        with self._lock:
            if new <= self._secrets:
                return
            secrets = self._secrets | new
            # Longest first, so a secret that contains another is masked whole.
            alternatives = sorted(secrets, key=len, reverse=True)
            self._secrets_pattern = re.compile("|".join(re.escape(s) for s in alternatives))
            self._secrets = frozenset(secrets)

    def clear_secrets(self) -> None:
        """Forget every registered value (tests; a process keeps its secrets for its lifetime)."""
        with self._lock:
            self._secrets = frozenset()
            self._secrets_pattern = None

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***``."""
        secrets_pattern = self._secrets_pattern
        if secrets_pattern is not None:
            # Registered values first: a raw password is only recognisable as itself.
            text = secrets_pattern.sub(MASK, text)
        return self._redact_builtin(text)

    def _redact_builtin(self, text: str) -> str:
        for rule in self._rules:
            if rule.keywords and not any(k in text for k in rule.keywords):
                continue
            text = rule.pattern.sub(rule.replacement, text)
        return text


def default_redactor() -> Redactor:
    """The process-wide redactor that :func:`telemetry.logging.setup_logging` uses."""
    return _DEFAULT


def register_secret(value: str) -> None:
    """Mask ``value`` in every log line this process writes from now on.

    Call it at start-up for each ``SecretStr`` of the settings (bot token, Supabase key, database
    and Redis passwords) — before or after ``setup_logging``, both work.
    """
    _DEFAULT.register_secret(value)


# Process-wide secret registry: secrets belong to the process, and Settings may register them
# before logging is set up. Creating it compiles nothing new and touches nothing outside this module.
_DEFAULT = Redactor()
