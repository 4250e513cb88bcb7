"""sendDocument (multipart upload or file_id re-send) and getFile."""

from __future__ import annotations

from typing import Any

from emulators.telegram.errors import bad_request
from emulators.telegram.formatting import utf16_len
from emulators.telegram.methods.common import (
    MAX_CAPTION_LENGTH,
    MethodHandler,
    formatted_text,
    reply_markup,
    reply_to_message_id,
)
from emulators.telegram.objects import StoredFile
from emulators.telegram.params import Params, UploadedFile
from emulators.telegram.state import EmulatorState


async def _document(state: EmulatorState, params: Params) -> StoredFile:
    document = params.get_file("document")
    if document is None:
        raise bad_request("there is no document in the request")
    if isinstance(document, UploadedFile):
        if not document.data:
            raise bad_request("file must be non-empty")
        return await state.files.put(
            document.data, file_name=document.filename, mime_type=document.content_type
        )
    if document.startswith(("http://", "https://")):
        # Telegram would fetch the URL; the emulator never leaves loopback, so it refuses.
        raise bad_request("failed to get HTTP URL content")
    stored = state.files.get(document)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


async def send_document(state: EmulatorState, params: Params) -> dict[str, Any]:
    chat = state.resolve_chat(params.get_str("chat_id"))
    caption, entities = formatted_text(params, "caption", "caption_entities")
    if utf16_len(caption) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    markup = reply_markup(params)
    reply_to = reply_to_message_id(params, chat)
    stored = await _document(state, params)
    entry = chat.append(
        "bot",
        caption=caption or None,
        entities=entities,
        document=stored,
        reply_markup=markup,
        reply_to_message_id=reply_to,
    )
    return state.message_json(entry)


async def get_file(state: EmulatorState, params: Params) -> dict[str, Any]:
    file_id = params.get_str("file_id")
    stored = state.files.get(file_id) if file_id else None
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > state.limits.max_download_bytes:
        raise bad_request("file is too big")
    return stored.file_json()


METHODS: dict[str, MethodHandler] = {
    "sendDocument": send_document,
    "getFile": get_file,
}
