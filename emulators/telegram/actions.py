"""What an emulated user does: each action lands in the chat's transcript and queues an update."""

from __future__ import annotations

from emulators.telegram.formatting import bot_command_entities
from emulators.telegram.objects import TranscriptEntry
from emulators.telegram.state import CallbackQueryRecord, EmulatorState


def user_sends_text(state: EmulatorState, user_id: int, text: str) -> TranscriptEntry:
    """The user types ``text``; commands get ``bot_command`` entities as Telegram marks them."""
    if not text:
        raise ValueError("a Telegram message cannot be empty")
    state.user(user_id)
    chat = state.chat(user_id)
    entry = chat.append("user", text=text, entities=bot_command_entities(text))
    state.updates.push("message", state.message_json(entry))
    return entry


async def user_sends_document(
    state: EmulatorState,
    user_id: int,
    data: bytes,
    *,
    file_name: str,
    mime_type: str | None = None,
    caption: str | None = None,
) -> TranscriptEntry:
    """The user attaches a file; the bot receives a ``Document`` it can ``getFile``."""
    state.user(user_id)
    chat = state.chat(user_id)
    stored = await state.files.put(data, file_name=file_name, mime_type=mime_type)
    entry = chat.append(
        "user",
        caption=caption or None,
        entities=bot_command_entities(caption) if caption else None,
        document=stored,
    )
    state.updates.push("message", state.message_json(entry))
    return entry


def user_presses_button(
    state: EmulatorState, user_id: int, message_id: int, data: str
) -> CallbackQueryRecord:
    """The user taps an inline button carrying ``data`` under one of the bot's messages."""
    user = state.user(user_id)
    message = state.chat(user_id).get(message_id)
    if message is None or message.sender != "bot":
        raise LookupError(f"no bot message {message_id} in chat {user_id}")
    record = state.new_callback_query(user_id, message_id, data)
    state.updates.push(
        "callback_query",
        {
            "id": record.id,
            "from": user.to_json(),
            "message": state.message_json(message),
            "chat_instance": str(user_id),
            "data": data,
        },
    )
    return record
