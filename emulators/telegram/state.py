"""The emulated Telegram world one bot sees: users, chats, files, pending updates, settings."""

from __future__ import annotations

import json
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.telegram.chats import ChatEvent, ChatListener, ChatLog
from emulators.telegram.errors import bad_request
from emulators.telegram.faults import CallStats, FaultInjector
from emulators.telegram.files import FileStore
from emulators.telegram.objects import BotIdentity, EmulatedUser, TranscriptEntry
from emulators.telegram.objects import message_json as render_message
from emulators.telegram.updates import UpdateQueue

MIB = 1024 * 1024

logger = logging.getLogger(__name__)
FIRST_USER_ID = 100_000_001


def command_menu_key(scope: dict[str, Any] | None, language_code: str | None) -> str:
    """Command menus are kept per (scope, language), as Telegram does."""
    return json.dumps([scope or {"type": "default"}, language_code or ""], sort_keys=True)


@dataclass(frozen=True)
class EmulatorLimits:
    """Bounds that keep a long simulation's memory flat, and Telegram's own size limits."""

    # Per chat; older entries are trimmed (their files stay fetchable).
    max_transcript_entries: int = 500
    # File bytes kept in memory in total; beyond it files spill to a temporary directory.
    memory_budget_bytes: int = 256 * MIB
    # Unconfirmed updates; beyond it the oldest are dropped (counted in `updates_dropped`).
    max_pending_updates: int = 100_000
    # Callback queries remembered for answerCallbackQuery; older ones become "too old".
    max_callback_queries: int = 10_000
    # Telegram's documented limits for bots: 50 MB uploads, 20 MB getFile downloads.
    max_upload_bytes: int = 50 * MIB
    max_download_bytes: int = 20 * MIB


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class EmulatorState:
    bot: BotIdentity
    limits: EmulatorLimits
    rng: random.Random
    spill_dir: Path | None = None
    clock: Callable[[], float] = time.time
    users: dict[int, EmulatedUser] = field(default_factory=dict)
    chats: dict[int, ChatLog] = field(default_factory=dict)
    callbacks: OrderedDict[str, CallbackQueryRecord] = field(default_factory=OrderedDict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    webhook: WebhookConfig | None = None
    listeners: list[ChatListener] = field(default_factory=list)
    stats: CallStats = field(default_factory=CallStats)

    def __post_init__(self) -> None:
        self.files = FileStore(memory_budget_bytes=self.limits.memory_budget_bytes, spill_dir=self.spill_dir)
        self.updates = UpdateQueue(max_pending=self.limits.max_pending_updates)
        self.faults = FaultInjector(self.rng)
        self._usernames: dict[str, int] = {}
        self._next_user_id = FIRST_USER_ID
        self._next_callback = 0

    # --- users and chats ---------------------------------------------------------------------

    def add_user(
        self,
        first_name: str | None = None,
        *,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> EmulatedUser:
        if user_id is None:
            while self._next_user_id in self.users:
                self._next_user_id += 1
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id <= 0 or user_id in self.users or user_id == self.bot.id:
            raise ValueError(f"user id {user_id} is taken or invalid")
        if username is not None:
            username = username.removeprefix("@")
            if username.lower() in self._usernames:
                raise ValueError(f"username @{username} is taken")
            self._usernames[username.lower()] = user_id
        user = EmulatedUser(user_id, first_name or f"User{user_id}", username, language_code)
        self.users[user_id] = user
        self.chats[user_id] = ChatLog(
            user_id,
            max_entries=self.limits.max_transcript_entries,
            clock=self.clock,
            on_event=self._publish,
        )
        return user

    def user(self, user_id: int) -> EmulatedUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise LookupError(f"no emulated user with id {user_id}") from None

    def chat(self, chat_id: int) -> ChatLog:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise LookupError(f"no chat with id {chat_id}") from None

    def resolve_chat(self, chat_id: str | None) -> ChatLog:
        """The chat a Bot API ``chat_id`` names (a number or ``@username``), else 400."""
        if not chat_id:
            raise bad_request("chat_id is empty")
        if chat_id.startswith("@"):
            found = self._usernames.get(chat_id[1:].lower())
        else:
            try:
                found = int(chat_id)
            except ValueError:
                found = None
        if found is None or found not in self.chats:
            raise bad_request("chat not found")
        return self.chats[found]

    # --- rendering ---------------------------------------------------------------------------

    def message_json(self, entry: TranscriptEntry, *, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` for an entry, as the bot receives or gets it back."""
        user = self.users[entry.chat_id]
        sender = self.bot.to_json() if entry.sender == "bot" else user.to_json()
        reply_to = None
        if with_reply and entry.reply_to_message_id is not None:
            original = self.chats[entry.chat_id].get(entry.reply_to_message_id)
            if original is not None:
                reply_to = self.message_json(original, with_reply=False)
        return render_message(entry, sender=sender, chat=user.chat_json(), reply_to=reply_to)

    # --- callbacks ---------------------------------------------------------------------------

    def new_callback_query(self, user_id: int, message_id: int, data: str) -> CallbackQueryRecord:
        self._next_callback += 1
        query_id = f"{self.bot.id}{self._next_callback:012d}"
        record = CallbackQueryRecord(query_id, user_id, user_id, message_id, data, self.clock())
        self.callbacks[query_id] = record
        while len(self.callbacks) > self.limits.max_callback_queries:
            self.callbacks.popitem(last=False)
        return record

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": self.stats.to_json(),
            "users": len(self.users),
            "pending_updates": len(self.updates),
            "updates_dropped": self.updates.dropped,
            "files": len(self.files),
            "file_memory_bytes": self.files.memory_bytes,
            "file_disk_bytes": self.files.disk_bytes,
            "transcript_entries_trimmed": sum(chat.trimmed for chat in self.chats.values()),
            "webhook_url": self.webhook.url if self.webhook else None,
        }

    def _publish(self, event: ChatEvent) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:
                # A broken observer (a simulator's recorder) must not fail the bot's API call.
                logger.exception("transcript listener %r failed", listener)
