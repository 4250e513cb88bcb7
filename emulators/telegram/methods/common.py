"""Parameter handling shared by the message-sending methods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from emulators.telegram.chats import ChatLog
from emulators.telegram.errors import bad_request
from emulators.telegram.formatting import parse_text
from emulators.telegram.params import Params
from emulators.telegram.state import EmulatorState

MethodHandler = Callable[[EmulatorState, Params], Awaitable[Any]]

# Telegram's limits: 4096 characters per text message, 1024 per caption, 64 bytes of
# callback_data per inline button.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64


def formatted_text(params: Params, text_key: str, entities_key: str) -> tuple[str, list[dict[str, Any]]]:
    """The text as the user will see it: markup applied, or explicit entities taken as given."""
    raw = params.get_str(text_key) or ""
    parse_mode = params.get_str("parse_mode")
    explicit = params.get_json(entities_key)
    if explicit:
        if not isinstance(explicit, list):
            raise bad_request(f"can't parse {entities_key} JSON array")
        return raw, explicit
    return parse_text(raw, parse_mode)


def reply_markup(params: Params) -> dict[str, Any] | None:
    """``reply_markup``, checked the way Telegram rejects broken inline keyboards."""
    markup = params.get_json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
    return markup


def reply_to_message_id(params: Params, chat: ChatLog) -> int | None:
    """The message being replied to (``reply_parameters`` or the legacy field), if it exists."""
    parameters = params.get_json("reply_parameters")
    allow_missing = params.get_bool("allow_sending_without_reply")
    if isinstance(parameters, dict):
        target = parameters.get("message_id")
        allow_missing = bool(parameters.get("allow_sending_without_reply", allow_missing))
    else:
        target = params.get_int("reply_to_message_id")
    if target is None:
        return None
    if not isinstance(target, int):
        raise bad_request("invalid reply_parameters specified")
    original = chat.get(target)
    if original is None or original.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return target


def require_message_id(params: Params) -> int:
    message_id = params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    return message_id
