"""Assemble and run the bot process (``csvbot run``).

``BotApp`` wires settings → database, storage, broker, Bot and Dispatcher. Without ``REDIS_URL`` it
also runs the worker side in-process (the embedded default), so ``csvbot run`` with a token is a
complete service on one machine. ``csvbot simulate`` uses the same class, pointed at the built-in
Telegram emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from taskiq import AsyncBroker

from service.bot.dispatcher import build_bot, build_dispatcher
from service.config import Settings
from service.db import Repository, open_repository
from service.deps import Services
from service.runtime import Telemetry
from service.storage import Storage, build_storage
from service.workers.broker import build_broker, make_kick
from service.workers.reaper import Reaper
from service.workers.runner import JobRunner

log = logging.getLogger(__name__)


class BotApp:
    """The bot process's components. ``start`` → ``serve`` (until stopped) → ``stop``."""

    def __init__(self, settings: Settings, telemetry: Telemetry) -> None:
        self.settings = settings
        self.telemetry = telemetry
        self.repo: Repository | None = None
        self.storage: Storage | None = None
        self.broker: AsyncBroker | None = None
        self.bot: Bot | None = None
        self.dp: Dispatcher | None = None
        self.services: Services | None = None
        self.reaper: Reaper | None = None
        self.runner: JobRunner | None = None
        self.in_process_worker = not settings.redis_url

    async def start(self) -> None:
        settings, metrics, health = self.settings, self.telemetry.metrics, self.telemetry.health
        self.bot = build_bot(settings, metrics)  # first: a bad token fails before any I/O
        self.repo = await open_repository(settings, metrics, application_name="csvbot-bot")
        health.set("database", True)
        self.storage = build_storage(settings, metrics)
        await self.storage.start()
        health.set("storage", True)
        self.broker = build_broker(settings)
        await self.broker.startup()
        kick = make_kick(self.broker)
        self.services = Services(settings, metrics, self.repo, self.storage, kick, health)
        self.dp = build_dispatcher(self.services)
        if self.in_process_worker:
            self.runner = JobRunner(self.services, self.bot, kick, lease_seconds=settings.job_lease_seconds)
            self.broker.state.csvbot_runner = self.runner
            self.reaper = Reaper(self.services, self.bot, kick, heartbeat_file=None)
            self.reaper.start()
        health.set("bot", True)
        log.info(
            "csvbot started",
            extra={
                "event": "started",
                "database": self.repo.backend,
                "storage": "supabase" if settings.uses_supabase_storage else "local",
                "broker": "redis" if settings.redis_url else "in-process",
                "session_limit": self.repo.session_limit,
            },
        )

    async def serve(self) -> None:
        """Poll (or serve the webhook) until cancelled."""
        assert self.dp is not None and self.bot is not None
        if self.settings.webhook_url:
            await self._serve_webhook()
        else:
            await self._poll()

    async def _poll(self) -> None:
        assert self.dp is not None and self.bot is not None
        polling = asyncio.ensure_future(
            self.dp.start_polling(self.bot, handle_signals=False, close_bot_session=False)
        )
        try:
            await asyncio.shield(polling)
        except asyncio.CancelledError:
            # Cancelling start_polling itself would orphan aiogram's polling task: it would keep
            # fetching (and handling) updates after stop() closed the session and the database,
            # and log an error on every shutdown. stop_polling() ends it and waits for it.
            with contextlib.suppress(RuntimeError):  # "Polling is not started": nothing to stop
                await self.dp.stop_polling()
            if not polling.done():
                polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
            raise

    async def _serve_webhook(self) -> None:
        assert self.dp is not None and self.bot is not None and self.settings.webhook_secret is not None
        secret = self.settings.webhook_secret.get_secret_value()
        await self.bot.set_webhook(f"{self.settings.webhook_url}/telegram", secret_token=secret)
        app = web.Application()
        # aiogram checks X-Telegram-Bot-Api-Secret-Token against ``secret_token`` on every request.
        SimpleRequestHandler(dispatcher=self.dp, bot=self.bot, secret_token=secret).register(
            app, path="/telegram"
        )
        setup_application(app, self.dp, bot=self.bot)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.webhook_host, self.settings.webhook_port)
        await site.start()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop taking work, let what is running finish (bounded), then close everything."""
        self.telemetry.health.set("bot", False)
        if self.reaper is not None:
            await self.reaper.stop()
        await self._drain(grace_seconds)
        if self.broker is not None:
            with contextlib.suppress(Exception):
                await self.broker.shutdown()
        if self.bot is not None:
            await self.bot.session.close()
        if self.storage is not None:
            await self.storage.aclose()
        if self.repo is not None:
            await self.repo.aclose()

    async def _drain(self, grace_seconds: float) -> None:
        """Updates being handled and in-process jobs finish before their dependencies close."""
        if self.dp is not None:
            # aiogram keeps the tasks of updates being handled here and offers no public accessor.
            handlers = {t for t in self.dp._handle_update_tasks if not t.done()}
            if handlers:
                _, late = await asyncio.wait(handlers, timeout=grace_seconds)
                for task in late:
                    task.cancel()
                if late:
                    await asyncio.wait(late, timeout=5)
        if self.runner is not None:
            await self.runner.drain(grace_seconds)


async def run_service(settings: Settings) -> int:
    """``csvbot run``: the bot until SIGTERM/SIGINT, then a clean shutdown."""
    telemetry = Telemetry.start(settings, service="bot")
    app = BotApp(settings, telemetry)
    try:
        await app.start()
        await run_until_signal(app.serve())
        return 0
    finally:
        await app.stop()
        await telemetry.stop()


async def run_until_signal(coro: Awaitable[Any]) -> None:
    """Run ``coro`` until it ends or the process gets SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
