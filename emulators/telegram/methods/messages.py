"""sendMessage, editMessageText, deleteMessage, sendChatAction."""

from __future__ import annotations

from typing import Any

from emulators.telegram.errors import bad_request
from emulators.telegram.formatting import utf16_len
from emulators.telegram.methods.common import (
    MAX_TEXT_LENGTH,
    MethodHandler,
    formatted_text,
    reply_markup,
    reply_to_message_id,
    require_message_id,
)
from emulators.telegram.params import Params
from emulators.telegram.state import EmulatorState

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def _checked_text(params: Params) -> tuple[str, list[dict[str, Any]]]:
    text, entities = formatted_text(params, "text", "entities")
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, entities


async def send_message(state: EmulatorState, params: Params) -> dict[str, Any]:
    chat = state.resolve_chat(params.get_str("chat_id"))
    text, entities = _checked_text(params)
    entry = chat.append(
        "bot",
        text=text,
        entities=entities,
        reply_markup=reply_markup(params),
        reply_to_message_id=reply_to_message_id(params, chat),
    )
    return state.message_json(entry)


async def edit_message_text(state: EmulatorState, params: Params) -> dict[str, Any]:
    if "inline_message_id" in params:
        raise bad_request("MESSAGE_ID_INVALID")  # the emulator has no inline mode
    chat = state.resolve_chat(params.get_str("chat_id"))
    entry = chat.get(require_message_id(params))
    if entry is None or entry.deleted:
        raise bad_request("message to edit not found")
    if entry.sender != "bot":
        raise bad_request("message can't be edited")
    if entry.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = _checked_text(params)
    # Editing without reply_markup removes an inline keyboard, as on Telegram.
    markup = reply_markup(params)
    if text == entry.text and entities == entry.entities and markup == entry.reply_markup:
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    chat.edit(entry, text=text, entities=entities, reply_markup=markup)
    return state.message_json(entry)


async def delete_message(state: EmulatorState, params: Params) -> bool:
    chat = state.resolve_chat(params.get_str("chat_id"))
    entry = chat.get(require_message_id(params))
    if entry is None or entry.deleted:
        raise bad_request("message to delete not found")
    chat.delete(entry)
    return True


async def send_chat_action(state: EmulatorState, params: Params) -> bool:
    chat = state.resolve_chat(params.get_str("chat_id"))
    action = params.get_str("action")
    if not action:
        raise bad_request("action is empty")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.record_chat_action(action)
    return True


METHODS: dict[str, MethodHandler] = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "deleteMessage": delete_message,
    "sendChatAction": send_chat_action,
}
