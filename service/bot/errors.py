"""One place that maps any error to the user's reply, the update outcome and the logs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiogram import Router
from aiogram.types import ErrorEvent

from service.deps import Services
from service.errors import CsvbotError, InputError, PermanentError, kind_of
from service.i18n import _

if TYPE_CHECKING:
    from service.bot.middlewares import UpdateOutcome

log = logging.getLogger(__name__)


def outcome_for(exc: BaseException) -> str:
    """``rejected`` when the service refused bad input on purpose, ``failed`` otherwise."""
    if isinstance(exc, InputError) or (isinstance(exc, PermanentError) and exc.kind in _USER_KINDS):
        return "rejected"
    return "failed"


_USER_KINDS = frozenset({"flood_limited", "job_not_found", "quota_exceeded"})


def user_message_for(exc: BaseException) -> str:
    """In the user's language: messages built in a handler are translated already, the error
    classes' defaults are catalogue entries."""
    if isinstance(exc, CsvbotError):
        return _(exc.user_message)
    return _(CsvbotError.user_message)


def build_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router


async def on_error(
    event: ErrorEvent, services: Services, update_outcome: UpdateOutcome | None = None, **_: Any
) -> bool:
    exc = event.exception
    kind = kind_of(exc)
    if update_outcome is not None:  # absent only for an error outside the telemetry middleware
        update_outcome.outcome = outcome_for(exc)
        update_outcome.error_kind = kind
    services.metrics.count_error("bot", kind)
    extra = {"event": "update_failed", "error_kind": kind, "update_id": event.update.update_id}
    if isinstance(exc, CsvbotError):
        log.warning("update ended with %s: %s", kind, exc, extra=extra)
    else:
        log.exception("unexpected error while handling an update", extra=extra)
    message = event.update.message
    query = event.update.callback_query
    try:
        if message is not None:
            await message.answer(user_message_for(exc))
        elif query is not None:  # a button press: the answer shows as a short notice
            await query.answer(user_message_for(exc)[:200])
    except Exception:  # the reply itself failed (Telegram down): logged, nothing else to do
        log.warning("could not tell the user about the error", extra=extra, exc_info=True)
    return True
