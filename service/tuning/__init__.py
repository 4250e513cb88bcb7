"""Session-limit tuning in the bot process: ``SESSION_LIMIT_TUNING`` = ``off``, ``alerts``, ``adaptive``.

:func:`open_tuning` starts what the mode needs — the Alertmanager webhook receiver or the
adaptive controller — on an exit stack the bot closes at shutdown. Both decide with the same
runbook rule (:mod:`service.tuning.rule`) and record through :class:`Decisions`. On SQLite, and
with ``off``, nothing starts: operators change the limit with ``/limit``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiogram import Bot
from aiohttp import web

from service.db.sql_repository import SqlRepository
from service.deps import Services
from service.tuning.adaptive import AdaptiveController
from service.tuning.decisions import Decision, Decisions, notify_admins
from service.tuning.quiet import QuietWatch
from service.tuning.tuner import Tuner
from service.tuning.webhook import AlertWebhook

log = logging.getLogger(__name__)

__all__ = ["Decision", "Decisions", "Tuner", "decisions_for", "open_tuning"]


def decisions_for(services: Services, bot: Bot) -> Decisions:
    return Decisions(
        services.repo, services.budget, services.metrics, notify_admins(bot, services.settings.admin_ids)
    )


@contextlib.asynccontextmanager
async def open_tuning(services: Services, bot: Bot) -> AsyncIterator[Tuner | None]:
    settings, repo = services.settings, services.repo
    mode = settings.session_limit_tuning
    if mode == "off" or not repo.tunable or not isinstance(repo, SqlRepository):
        if mode != "off":
            log.warning(
                "SESSION_LIMIT_TUNING=%s has nothing to tune: SQLite uses one connection",
                mode,
                extra={"event": "tuning_disabled"},
            )
        yield None
        return
    decisions = decisions_for(services, bot)
    tuner = Tuner(settings, repo, services.budget, decisions)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(decisions.drain)
        if mode == "adaptive":
            controller = AdaptiveController(settings, repo, tuner, services.metrics)
            controller.start()
            stack.push_async_callback(controller.stop)
        else:
            assert settings.alert_webhook_token is not None  # the settings require it for "alerts"
            webhook = AlertWebhook(
                tuner, services.metrics, token=settings.alert_webhook_token.get_secret_value()
            )
            runner = web.AppRunner(webhook.app(), access_log=None)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            site = web.TCPSite(runner, settings.alert_webhook_host, settings.alert_webhook_port)
            await site.start()
            tuner.webhook_port = _bound_port(runner) or settings.alert_webhook_port
            quiet = QuietWatch(tuner, interval=settings.session_limit_window_seconds)
            quiet.start()
            stack.push_async_callback(quiet.stop)
        log.info("session limit tuning started", extra={"event": "tuning_started", "mode": mode})
        yield tuner


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None
