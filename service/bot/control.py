"""/cancel <id> and the progress message's Cancel button; /delete with its confirmation; /privacy.

Buttons are signed for the user they were made for (:mod:`service.bot.callbacks`); a press whose
signature does not match the presser is refused with a short answer, counted and logged, and
reveals nothing about any job.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from service import messages
from service.bot.callbacks import Press, buttons, verify
from service.bot.middlewares import UpdateOutcome
from service.control.cancel import cancel
from service.control.erase import erase_user
from service.deps import Services
from service.errors import JobNotFoundError
from service.i18n.middleware import PrefsCache

log = logging.getLogger(__name__)


def build_router() -> Router:
    router = Router(name="control")
    router.message.register(on_cancel, Command("cancel"), flags={"handler": "cancel"})
    router.message.register(on_delete, Command("delete"), flags={"handler": "delete"})
    router.message.register(on_privacy, Command("privacy"), flags={"handler": "privacy"})
    router.callback_query.register(on_button, F.data, flags={"handler": "button"})
    return router


async def on_cancel(message: Message, command: CommandObject, services: Services) -> None:
    assert message.from_user is not None
    job_id = (command.args or "").strip()
    if not job_id:
        await message.answer(messages.cancel_usage())
        return
    await message.answer(await _cancel_text(services, job_id, message.from_user.id))


async def _cancel_text(services: Services, job_id: str, user_id: int) -> str:
    outcome = await cancel(services, job_id, user_id)  # JobNotFoundError for another's job
    if not outcome.cancelled:
        from service.bot.jobs import shown_status

        return messages.not_cancellable(job_id, shown_status(outcome.job))
    return messages.cancelling(job_id) if outcome.running else messages.cancelled(job_id)


async def on_delete(message: Message, services: Services) -> None:
    assert message.from_user is not None
    markup = buttons(
        services.settings,
        message.from_user.id,
        [[(messages.delete_yes(), "delete", "all"), (messages.delete_no(), "keep", "all")]],
    )
    await message.answer(messages.delete_confirm(), reply_markup=markup)


async def on_privacy(message: Message, services: Services) -> None:
    await message.answer(messages.privacy_text(services.settings))


async def on_button(
    query: CallbackQuery,
    services: Services,
    update_outcome: UpdateOutcome | None = None,
    prefs_cache: PrefsCache | None = None,
) -> None:
    press = verify(services.settings, query.data, query.from_user.id)
    if press is None:
        services.metrics.callbacks_rejected.inc()
        log.warning(
            "inline button refused: bad signature or another user's button",
            extra={"event": "callback_rejected", "user_id": query.from_user.id},
        )
        if update_outcome is not None:
            update_outcome.outcome = "rejected"
        await query.answer(messages.button_expired(), show_alert=False)
        return
    await _act(query, press, services, update_outcome, prefs_cache)


async def _act(
    query: CallbackQuery,
    press: Press,
    services: Services,
    update_outcome: UpdateOutcome | None,
    prefs_cache: PrefsCache | None,
) -> None:
    from service.bot.preferences import on_format_press, on_language_press

    user_id = query.from_user.id
    if press.action == "cancel":
        try:
            text = await _cancel_text(services, press.argument, user_id)
        except JobNotFoundError:
            services.metrics.callbacks_rejected.inc()
            if update_outcome is not None:
                update_outcome.outcome = "rejected"
            await query.answer(messages.button_expired())
            return
        await query.answer()
        if query.message is not None:
            await query.message.answer(text)
    elif press.action == "delete":
        await query.answer()
        erased = await erase_user(services, user_id)
        if prefs_cache is not None:
            prefs_cache.forget(user_id)
        await _edit(query, messages.deleted(erased.jobs, erased.files))
    elif press.action == "keep":
        await query.answer()
        await _edit(query, messages.delete_kept())
    elif press.action == "lang":
        await on_language_press(query, press.argument, services, prefs_cache)
    elif press.action == "fmt":
        await on_format_press(query, press.argument, services, prefs_cache)


async def _edit(query: CallbackQuery, text: str) -> None:
    """Replace the confirmation (and its buttons) with the answer."""
    if query.message is not None and hasattr(query.message, "edit_text"):
        await query.message.edit_text(text, reply_markup=None)
