"""Inline buttons whose data cannot be forged: ``<action>:<argument>:<signature>``.

Telegram returns a button's ``callback_data`` as the client sends it, and a modified client can
send anything. So every button's data carries an HMAC-SHA256 over the action, the argument and the
Telegram user the button was made for, keyed by ``CALLBACK_SECRET`` (or, unset, a key derived from
the bot token), truncated to 96 bits to fit Telegram's 64-byte limit. A press is acted on only if
the signature matches the presser's own user id — a button made for one user does nothing for
another — and the handler still checks that the job is the presser's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from service import messages
from service.config import Settings

#: Telegram's bound on callback_data.
MAX_CALLBACK_BYTES = 64
SIGNATURE_CHARS = 16  # 96 bits of base64url
ACTIONS = frozenset({"cancel", "delete", "keep", "lang", "fmt"})
_ARGUMENT = re.compile(r"^[A-Za-z0-9_-]{0,24}$")


@dataclass(frozen=True, slots=True)
class Press:
    action: str
    argument: str


def signing_key(settings: Settings) -> bytes:
    if settings.callback_secret is not None:
        return settings.callback_secret.get_secret_value().encode()
    token = settings.bot_token.get_secret_value() if settings.bot_token is not None else ""
    # A derived key, so the token itself is never the HMAC key of data users can see.
    return hashlib.sha256(b"csvbot callback key\x00" + token.encode()).digest()


def _signature(key: bytes, action: str, argument: str, user_id: int) -> str:
    mac = hmac.new(key, f"{action}:{argument}:{user_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:SIGNATURE_CHARS]


def sign(settings: Settings, action: str, argument: str, user_id: int) -> str:
    if action not in ACTIONS or not _ARGUMENT.fullmatch(argument):
        raise ValueError(f"bad button {action!r} {argument!r}")
    data = f"{action}:{argument}:{_signature(signing_key(settings), action, argument, user_id)}"
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    return data


def verify(settings: Settings, data: str | None, user_id: int) -> Press | None:
    """The press if ``data`` is a button made for ``user_id``; ``None`` for anything else."""
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    parts = data.split(":")
    if len(parts) != 3:
        return None
    action, argument, signature = parts
    if action not in ACTIONS or not _ARGUMENT.fullmatch(argument):
        return None
    expected = _signature(signing_key(settings), action, argument, user_id)
    if not hmac.compare_digest(expected, signature):
        return None
    return Press(action, argument)


def cancel_markup(settings: Settings, job_id: str, user_id: int) -> InlineKeyboardMarkup:
    """The progress message's "Cancel" button (text in the current language)."""
    button = InlineKeyboardButton(
        text=messages.cancel_button(), callback_data=sign(settings, "cancel", job_id, user_id)
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def buttons(settings: Settings, user_id: int, rows: list[list[tuple[str, str, str]]]) -> InlineKeyboardMarkup:
    """A keyboard of (text, action, argument) buttons, each signed for ``user_id``."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=text, callback_data=sign(settings, action, argument, user_id))
                for text, action, argument in row
            ]
            for row in rows
        ]
    )
