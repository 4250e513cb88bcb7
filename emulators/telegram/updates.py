"""Pending updates and ``getUpdates`` long-polling semantics.

As on Telegram: an update stays pending until a later ``getUpdates`` passes an ``offset`` above
its id (so updates returned to a poller that died are delivered again); a negative offset keeps
only the newest ``-offset`` updates; ``timeout`` holds the request open until an update arrives;
``allowed_updates`` persists across calls; and a second concurrent poll terminates the first with
409 Conflict. The queue is capped: past ``max_pending`` the oldest update is dropped and counted,
as Telegram drops updates older than 24 hours.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from emulators.telegram.errors import conflict

# Update types Telegram sends when allowed_updates was never set (it omits these three).
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_LIMIT = 100


@dataclass(frozen=True)
class Update:
    update_id: int
    kind: str  # "message", "callback_query", …: the key of the payload in the JSON
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


class UpdateQueue:
    def __init__(self, *, max_pending: int) -> None:
        self._max_pending = max_pending
        self._pending: OrderedDict[int, Update] = OrderedDict()
        self._last_id = 0
        self._allowed: frozenset[str] | None = None
        self._poller: asyncio.Future[None] | None = None
        self._arrival = asyncio.Event()
        self._closed = False
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def allowed_updates(self) -> frozenset[str] | None:
        return self._allowed

    def push(self, kind: str, payload: dict[str, Any]) -> Update:
        self._last_id += 1
        update = Update(self._last_id, kind, payload)
        self._pending[update.update_id] = update
        while len(self._pending) > self._max_pending:
            self._pending.popitem(last=False)
            self.dropped += 1
        self._wake()
        return update

    def set_allowed(self, allowed: list[str] | None) -> None:
        """Remember ``allowed_updates``; an empty list means "all but the default exclusions"."""
        if allowed is not None:
            self._allowed = frozenset(allowed) if allowed else None

    def is_allowed(self, kind: str) -> bool:
        if self._allowed is None:
            return kind not in DEFAULT_EXCLUDED
        return kind in self._allowed

    def confirm_below(self, update_id: int) -> None:
        """Forget every update with an id lower than ``update_id``."""
        while self._pending:
            oldest = next(iter(self._pending))
            if oldest >= update_id:
                break
            del self._pending[oldest]

    def remove(self, update_id: int) -> None:
        self._pending.pop(update_id, None)

    def drop_all(self) -> None:
        self._pending.clear()

    def peek(self, limit: int, *, exclude: set[int] | None = None) -> list[Update]:
        """Up to ``limit`` oldest allowed updates, discarding those the bot does not want."""
        found: list[Update] = []
        unwanted: list[int] = []
        for update in self._pending.values():
            if not self.is_allowed(update.kind):
                unwanted.append(update.update_id)
            elif not exclude or update.update_id not in exclude:
                found.append(update)
                if len(found) >= limit:
                    break
        for update_id in unwanted:
            del self._pending[update_id]
        return found

    @property
    def arrival(self) -> asyncio.Event:
        """Set by every ``push`` and ``wake``: webhook delivery clears it and waits on it."""
        return self._arrival

    @property
    def poll_waiting(self) -> bool:
        """Whether a ``getUpdates`` long poll is waiting for updates right now."""
        return self._poller is not None and not self._poller.done()

    def wake(self) -> None:
        """Nudge webhook delivery without a new update (its configuration or capacity changed)."""
        self._arrival.set()

    async def poll(
        self,
        *,
        offset: int,
        limit: int,
        timeout: float,  # noqa: ASYNC109 - getUpdates' own long-poll parameter, not a deadline
    ) -> list[Update]:
        """``getUpdates``: confirm by ``offset``, then return at once or wait up to ``timeout``."""
        if offset < 0:
            keep = -offset
            while len(self._pending) > keep:
                self._pending.popitem(last=False)
        elif offset > 0:
            self.confirm_below(offset)
        limit = MAX_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
        self._supersede_poller()
        found = self.peek(limit)
        if found or timeout <= 0 or self._closed:
            return found
        poller: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._poller = poller
        try:
            await asyncio.wait_for(poller, timeout)
        except TimeoutError:
            return []
        finally:
            if self._poller is poller:
                self._poller = None
        return self.peek(limit)

    def reopen(self) -> None:
        """Serve long polls again after ``close()`` (the emulator was restarted)."""
        self._closed = False

    def close(self) -> None:
        """Answer a waiting poll with no updates so the server can shut down promptly."""
        self._closed = True
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)

    def _supersede_poller(self) -> None:
        previous, self._poller = self._poller, None
        if previous is not None and not previous.done():
            previous.set_exception(
                conflict(
                    "terminated by other getUpdates request; make sure that only one bot instance is running"
                )
            )

    def _wake(self) -> None:
        self._arrival.set()
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)
