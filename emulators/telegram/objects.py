"""The emulator's records and their Bot API JSON renderings.

Records are what the control API hands to tests (a user, a chat's transcript entries, a stored
file); the ``*_json`` functions render them as the Bot API objects aiogram's pydantic models parse
(``User``, ``Chat``, ``Message``, ``Document``, ``File``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Sender = Literal["user", "bot"]


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is: derived from its token, answered by ``getMe``."""

    token: str
    first_name: str
    username: str

    @property
    def id(self) -> int:
        # A token is "<bot id>:<secret>"; Telegram's getMe returns that same id.
        return int(self.token.partition(":")[0])

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass(frozen=True, slots=True)
class EmulatedUser:
    """A Telegram user the control API acts as. Their private chat has the same id."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"

    @property
    def chat_id(self) -> int:
        return self.id

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            body["username"] = self.username
        if self.language_code:
            body["language_code"] = self.language_code
        return body

    def chat_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            body["username"] = self.username
        return body


@dataclass(frozen=True, slots=True)
class StoredFile:
    """Metadata of a file the emulator holds; its bytes live in the FileStore."""

    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    file_size: int
    file_path: str

    def document_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
        }

    def file_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


@dataclass(frozen=True, slots=True)
class EditRecord:
    """One earlier version of an edited message."""

    text: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    replaced_at: float  # wall-clock seconds when this version was replaced


@dataclass(slots=True)
class TranscriptEntry:
    """One message in a chat, from either side, with its current content and edit history.

    ``seq`` orders entries in their chat and never repeats, even after old entries are trimmed.
    ``revision`` is the chat's change counter at this entry's last change (creation, edit or
    deletion): a poller that remembers the highest revision it saw asks only for newer changes.
    """

    seq: int
    message_id: int
    chat_id: int
    sender: Sender
    date: int
    created_at: float
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    document: StoredFile | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    edits: list[EditRecord] = field(default_factory=list)
    deleted: bool = False
    revision: int = 0
    updated_at: float = 0.0

    @property
    def content(self) -> str:
        """What the user reads: the text, or a document's caption (empty when neither)."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def edit_history(self) -> list[str | None]:
        """Earlier texts, oldest first (the current text is ``text``)."""
        return [edit.text for edit in self.edits]

    def to_control_json(self) -> dict[str, Any]:
        """The control API's rendering: everything a test asserts on, bytes by reference."""
        return {
            "seq": self.seq,
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "sender": self.sender,
            "date": self.date,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "revision": self.revision,
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "document": self.document.document_json() if self.document else None,
            "reply_markup": self.reply_markup,
            "reply_to_message_id": self.reply_to_message_id,
            "edit_date": self.edit_date,
            "edit_history": [
                {"text": e.text, "replaced_at": e.replaced_at, "reply_markup": e.reply_markup}
                for e in self.edits
            ],
            "deleted": self.deleted,
        }


def message_json(
    entry: TranscriptEntry,
    *,
    sender: dict[str, Any],
    chat: dict[str, Any],
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Bot API ``Message`` for a transcript entry."""
    body: dict[str, Any] = {
        "message_id": entry.message_id,
        "from": sender,
        "chat": chat,
        "date": entry.date,
    }
    if entry.text is not None:
        body["text"] = entry.text
        if entry.entities:
            body["entities"] = entry.entities
    if entry.document is not None:
        body["document"] = entry.document.document_json()
    if entry.caption is not None:
        body["caption"] = entry.caption
        if entry.entities and entry.text is None:
            body["caption_entities"] = entry.entities
    # Telegram echoes only inline keyboards inside Message objects.
    if entry.reply_markup and "inline_keyboard" in entry.reply_markup:
        body["reply_markup"] = entry.reply_markup
    if entry.edit_date is not None:
        body["edit_date"] = entry.edit_date
    if reply_to is not None:
        body["reply_to_message"] = reply_to
    return body
