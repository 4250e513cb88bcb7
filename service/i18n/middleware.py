"""The bot's language middleware: every update is handled in its user's language.

It records the user (with Telegram's ``language_code``) and reads their preferences in one query,
cached in memory for :data:`CACHE_SECONDS` and refreshed when the language code changes, so a
chat costs one write per user per few minutes. A database that is down does not stop the update:
the language then comes from ``language_code`` alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from service.db.userdata import UserPrefs
from service.deps import Services
from service.errors import kind_of
from service.i18n.catalog import PoI18n, i18n
from service.i18n.language import language_for
from telemetry import slo

log = logging.getLogger(__name__)

#: How long a user's preferences are trusted without reading them again. Preference changes made
#: by this process update the cache at once; five minutes bounds how stale another process may be.
CACHE_SECONDS = 300.0
CACHE_USERS = 10_000
#: Key of the user's preferences in the handler data.
PREFS_KEY = "user_prefs"


class PrefsCache:
    """The newest preferences of recently seen users (bounded, least recently used out)."""

    def __init__(self, max_users: int = CACHE_USERS, ttl: float = CACHE_SECONDS) -> None:
        self._entries: OrderedDict[int, tuple[float, UserPrefs]] = OrderedDict()
        self._max_users, self._ttl = max_users, ttl

    def get(self, user_id: int) -> UserPrefs | None:
        entry = self._entries.get(user_id)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        self._entries.move_to_end(user_id)
        return entry[1]

    def forget(self, user_id: int) -> None:
        """The user's data was deleted: the next update reads (and re-creates) the row."""
        self._entries.pop(user_id, None)

    def put(self, prefs: UserPrefs) -> None:
        self._entries[prefs.user_id] = (time.monotonic(), prefs)
        self._entries.move_to_end(prefs.user_id)
        while len(self._entries) > self._max_users:
            self._entries.popitem(last=False)


class UserLanguageMiddleware(I18nMiddleware):
    def __init__(self, services: Services, translations: PoI18n | None = None) -> None:
        super().__init__(i18n=translations or i18n())
        self.services = services
        self.cache = PrefsCache()
        #: One query per user at a time: a burst of one user's updates (a flood) waits for the
        #: first one's answer instead of each taking a database session.
        self._in_flight: dict[int, asyncio.Future[UserPrefs | None]] = {}

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        data["prefs_cache"] = self.cache
        user: User | None = data.get("event_from_user")
        if user is None:
            return self.i18n.default_locale
        prefs = await self._prefs(user, data)
        if prefs is not None:
            data[PREFS_KEY] = prefs
            return language_for(prefs.language_code, prefs.language)
        return language_for(user.language_code)

    async def _prefs(self, user: User, data: dict[str, Any]) -> UserPrefs | None:
        cached = self.cache.get(user.id)
        if cached is not None and cached.language_code in (user.language_code, None):
            return cached
        pending = self._in_flight.get(user.id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[UserPrefs | None] = asyncio.get_running_loop().create_future()
        self._in_flight[user.id] = future
        try:
            prefs = await self._remember(user, data)
            future.set_result(prefs)
            return prefs
        except BaseException:  # cancelled (shutdown): the waiters are cancelled with it
            future.cancel()
            raise
        finally:
            del self._in_flight[user.id]

    async def _remember(self, user: User, data: dict[str, Any]) -> UserPrefs | None:
        chat = data.get("event_chat")
        try:
            async with asyncio.timeout(slo.PREFS_LOOKUP_TIMEOUT_SECONDS):
                prefs = await self.services.repo.remember_user(
                    user_id=user.id,
                    chat_id=chat.id if chat is not None else user.id,
                    username=user.username,
                    language_code=user.language_code,
                )
        except Exception as exc:  # the language is no reason to fail the update; its handler decides
            log.warning(
                "could not read the user's preferences; using Telegram's language",
                extra={"event": "prefs_unavailable", "error_kind": kind_of(exc)},
            )
            return None
        self.cache.put(prefs)
        return prefs
