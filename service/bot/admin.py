"""Operator commands: read and change the database session limit at run time.

``/limit`` shows the live limit and its ceiling; ``/limit N`` changes it (bounded by
``SUPABASE_SESSION_LIMIT_MAX``). Only users listed in ``ADMIN_IDS`` may use it.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from service import messages
from service.deps import Services

log = logging.getLogger(__name__)


def build_router() -> Router:
    router = Router(name="admin")
    router.message.register(on_limit, Command("limit"), flags={"handler": "admin"})
    return router


async def on_limit(message: Message, command: CommandObject, services: Services) -> None:
    assert message.from_user is not None
    if message.from_user.id not in services.settings.admin_ids:
        await message.answer(messages.not_admin())
        return
    current = services.repo.session_limit
    ceiling = services.settings.supabase_session_limit_max
    arg = (command.args or "").strip()
    if not arg.isdigit() or not 1 <= int(arg) <= ceiling:
        await message.answer(messages.limit_usage(current, ceiling))
        return
    new = int(arg)
    await services.repo.set_session_limit(new, source="operator")
    log.warning(
        "session limit changed by an operator",
        extra={
            "event": "session_limit_changed",
            "old": current,
            "new": new,
            "operator_id": message.from_user.id,
        },
    )
    await message.answer(messages.limit_changed(current, new))
