"""One chat's transcript: both sides, bounded, with edits applied and waiters woken on change."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from emulators.telegram.objects import EditRecord, Sender, StoredFile, TranscriptEntry

ChatEventKind = Literal["new", "edited", "deleted"]
EntryPredicate = Callable[[TranscriptEntry], bool]


@dataclass(frozen=True)
class ChatEvent:
    """A change to a transcript, as listeners and waiters see it."""

    kind: ChatEventKind
    entry: TranscriptEntry


ChatListener = Callable[[ChatEvent], None]


class ChatLog:
    """A private chat's messages, newest ``max_entries`` kept (older ones are trimmed)."""

    def __init__(
        self,
        chat_id: int,
        *,
        max_entries: int,
        clock: Callable[[], float],
        on_event: ChatListener,
    ) -> None:
        self.chat_id = chat_id
        self._max_entries = max_entries
        self._clock = clock
        self._on_event = on_event
        self._entries: deque[TranscriptEntry] = deque()
        self._by_message_id: dict[int, TranscriptEntry] = {}
        self._waiters: list[tuple[EntryPredicate, asyncio.Future[TranscriptEntry]]] = []
        self._last_message_id = 0
        self._seq = 0
        self.revision = 0
        self.trimmed = 0
        self.chat_actions: dict[str, int] = {}

    def entries(self) -> list[TranscriptEntry]:
        return list(self._entries)

    def get(self, message_id: int) -> TranscriptEntry | None:
        return self._by_message_id.get(message_id)

    def append(
        self,
        sender: Sender,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        caption: str | None = None,
        document: StoredFile | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
    ) -> TranscriptEntry:
        """Add a message; message ids count up per chat for both sides, as in Telegram."""
        now = self._clock()
        self._last_message_id += 1
        self._seq += 1
        self.revision += 1
        entry = TranscriptEntry(
            seq=self._seq,
            message_id=self._last_message_id,
            chat_id=self.chat_id,
            sender=sender,
            date=int(now),
            created_at=now,
            updated_at=now,
            text=text,
            entities=entities or [],
            caption=caption,
            document=document,
            reply_markup=reply_markup,
            reply_to_message_id=reply_to_message_id,
            revision=self.revision,
        )
        self._entries.append(entry)
        self._by_message_id[entry.message_id] = entry
        if len(self._entries) > self._max_entries:
            oldest = self._entries.popleft()
            del self._by_message_id[oldest.message_id]
            self.trimmed += 1
        self._publish(ChatEvent("new", entry))
        return entry

    def edit(
        self,
        entry: TranscriptEntry,
        *,
        text: str,
        entities: list[dict[str, Any]],
        reply_markup: dict[str, Any] | None,
    ) -> None:
        """Replace the text (or a document's caption), keeping the old version in the history."""
        now = self._clock()
        current = entry.text if entry.document is None else entry.caption
        entry.edits.append(EditRecord(current, entry.entities, entry.reply_markup, now))
        if entry.document is None:
            entry.text = text
        else:
            entry.caption = text
        entry.entities = entities
        entry.reply_markup = reply_markup
        entry.edit_date = int(now)
        self._touch(entry, now)
        self._publish(ChatEvent("edited", entry))

    def delete(self, entry: TranscriptEntry) -> None:
        """Mark deleted: the transcript keeps it so a test can see what the bot removed."""
        entry.deleted = True
        self._touch(entry, self._clock())
        self._publish(ChatEvent("deleted", entry))

    def record_chat_action(self, action: str) -> None:
        self.chat_actions[action] = self.chat_actions.get(action, 0) + 1

    def changed_since(self, revision: int) -> list[TranscriptEntry]:
        """Entries created, edited or deleted after ``revision``, in transcript order."""
        return [entry for entry in self._entries if entry.revision > revision]

    async def wait_for(
        self,
        predicate: EntryPredicate,
        timeout: float,  # noqa: ASYNC109 - a required bound: waiters must never outlive a test
    ) -> TranscriptEntry:
        """The first entry (existing, new or just edited) matching ``predicate``.

        Raises ``TimeoutError`` when none matches within ``timeout`` seconds.
        """
        for entry in self._entries:
            if predicate(entry):
                return entry
        future: asyncio.Future[TranscriptEntry] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def wait_changed(
        self,
        since_revision: int,
        timeout: float,  # noqa: ASYNC109 - a long-poll duration from the request, not a deadline
    ) -> None:
        """Return once the chat's revision exceeds ``since_revision`` or ``timeout`` passes."""
        if self.revision > since_revision or timeout <= 0:
            return
        try:
            await self.wait_for(lambda entry: entry.revision > since_revision, timeout)
        except TimeoutError:
            return

    def _touch(self, entry: TranscriptEntry, now: float) -> None:
        self.revision += 1
        entry.revision = self.revision
        entry.updated_at = now

    def _publish(self, event: ChatEvent) -> None:
        if self._waiters:
            still_waiting = []
            for predicate, future in self._waiters:
                if future.done():
                    continue
                try:
                    matched = predicate(event.entry)
                except Exception as exc:
                    # The waiter's bug goes to the waiter, not to the Bot API call that got here.
                    future.set_exception(exc)
                    continue
                if matched:
                    future.set_result(event.entry)
                else:
                    still_waiting.append((predicate, future))
            self._waiters = still_waiting
        self._on_event(event)
