"""Speaking to one user outside an update: a worker's progress edits, results and failures.

The worker knows a job's user, not their Telegram client: the language (and output format) come
from the user's stored preferences, read once per job. A database that cannot answer leaves the
job in English rather than failing it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from service.db.userdata import UserPrefs
from service.deps import Services
from service.errors import CsvbotError
from service.i18n import ENGLISH, use_language
from service.i18n.language import language_for

log = logging.getLogger(__name__)

#: The preferences of the user a worker is speaking to (``None``: unknown).
current_prefs: ContextVar[UserPrefs | None] = ContextVar("csvbot_current_prefs", default=None)


async def load_prefs(services: Services, user_id: int) -> UserPrefs | None:
    try:
        return await services.repo.get_user_prefs(user_id)
    except CsvbotError as exc:
        log.warning(
            "could not read the user's preferences; speaking English",
            extra={"event": "prefs_unavailable", "error_kind": exc.kind, "user_id": user_id},
        )
        return None


@asynccontextmanager
async def speaking_to(services: Services, user_id: int) -> AsyncIterator[UserPrefs | None]:
    """The body runs in ``user_id``'s language, with their preferences in :data:`current_prefs`."""
    prefs = await load_prefs(services, user_id)
    language = language_for(prefs.language_code, prefs.language) if prefs is not None else ENGLISH
    token = current_prefs.set(prefs)
    try:
        with use_language(language):
            yield prefs
    finally:
        current_prefs.reset(token)
