"""Operator commands: read and change the service-wide database session limit at run time.

``/limit`` shows the limit, its ceiling, the connection budget and each process's grant and use;
``/limit N [reason]`` stores a new limit (bounded by the ceiling) that every process applies
within a lease renewal and that survives restarts. Only users listed in ``ADMIN_IDS`` may use
it. On SQLite it says plainly that there is nothing to tune.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from service import messages
from service.bot import limit_view
from service.deps import Services
from service.tuning import decisions_for

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
    repo = services.repo
    if not repo.tunable:
        await message.answer(limit_view.NOTHING_TO_TUNE)
        return
    ceiling = repo.session_limit_ceiling
    arg, _, reason = (command.args or "").strip().partition(" ")
    if not arg:
        budget = await services.budget.status() if services.budget is not None else None
        await message.answer(
            limit_view.status(
                limit=repo.session_limit,
                ceiling=ceiling,
                tuning=services.settings.session_limit_tuning,
                budget=budget,
                # On the reserve, like the ledger's leases: /limit is most needed when the pool
                # is pinned, and must not answer "busy" then.
                last=await repo.read_session_limit(reserve=True),
            )
        )
        return
    if not arg.isdigit() or not 1 <= int(arg) <= ceiling:
        await message.answer(limit_view.usage(ceiling))
        return
    new, previous = int(arg), repo.session_limit
    if new == previous:
        await message.answer(limit_view.changed(previous, new))
        return
    assert message.bot is not None
    decision = await decisions_for(services, message.bot).record(
        direction="up" if new > previous else "down",
        new=new,
        source="operator",
        trigger=str(message.from_user.id),
        reason=reason.strip() or "set by an operator with /limit",
    )
    await message.answer(limit_view.changed(decision.previous, decision.new))
