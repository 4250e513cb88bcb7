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

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from service.bot.dispatcher import build_dispatcher
from service.bot.menu import set_command_menus
from service.config import Settings
from service.db import Repository, open_repository
from service.db.factory import OpenRepository
from service.deps import Services
from service.heap import freeze_startup_heap
from service.process import DRAIN_SECONDS, OpenProcess, open_process
from service.runtime import Telemetry, run_until_signal
from service.spool import UploadDesk, open_upload_desk
from service.storage import Storage
from service.tuning import Tuner, open_tuning
from service.workers.runner import JobRunner

log = logging.getLogger(__name__)


class BotApp:
    """The bot process. ``start`` → ``serve`` (until stopped) → ``stop``.

    What it opens comes from :func:`~service.process.open_process` (with the job side in-process
    when there is no ``REDIS_URL``); the dispatcher is the bot's own.
    """

    def __init__(
        self, settings: Settings, telemetry: Telemetry, *, open_repo: OpenRepository = open_repository
    ) -> None:
        self.settings = settings
        #: How the database is opened (a simulation on SQLite passes a PostgreSQL-like model).
        self.open_repo = open_repo
        self.telemetry = telemetry
        self.in_process_worker = not settings.redis_url
        self.dp: Dispatcher | None = None
        self._opened: OpenProcess | None = None
        self._webhook_handler: SimpleRequestHandler | None = None
        self.upload_desk: UploadDesk | None = None
        self.tuner: Tuner | None = None
        self._stack = contextlib.AsyncExitStack()
        self._menus: asyncio.Task[None] | None = None

    @property
    def bot(self) -> Bot | None:
        return self._opened.bot if self._opened else None

    @property
    def services(self) -> Services | None:
        return self._opened.services if self._opened else None

    @property
    def repo(self) -> Repository | None:
        return self._opened.services.repo if self._opened else None

    @property
    def storage(self) -> Storage | None:
        return self._opened.services.storage if self._opened else None

    @property
    def runner(self) -> JobRunner | None:
        return self._opened.runner if self._opened else None

    async def start(self) -> None:
        settings = self.settings
        self._opened = await self._stack.enter_async_context(
            open_process(
                settings,
                self.telemetry,
                role="bot",
                run_jobs=self.in_process_worker,
                open_repo=self.open_repo,
            )
        )
        repo = self._opened.services.repo
        # Session-limit tuning (SESSION_LIMIT_TUNING): the webhook receiver or the controller.
        self.tuner = await self._stack.enter_async_context(
            open_tuning(self._opened.services, self._opened.bot)
        )
        self.dp = build_dispatcher(self._opened.services)
        self.upload_desk = open_upload_desk(settings, self._opened.services, self._opened.bot)
        # Stopped before what open_process opened closes; what still waits stays spooled.
        self._stack.push_async_callback(self.upload_desk.stop)
        self.dp["upload_desk"] = self.upload_desk
        self.upload_desk.start()
        # In the background: a menu is a convenience, and Telegram rate-limits setMyCommands.
        self._menus = asyncio.get_running_loop().create_task(
            set_command_menus(self._opened.bot), name="csvbot-command-menus"
        )
        self.telemetry.health.set("bot", True)
        log.info(
            "csvbot started",
            extra={
                "event": "started",
                "database": repo.backend,
                "storage": "supabase" if settings.uses_supabase_storage else "local",
                "broker": "redis" if settings.redis_url else "in-process",
                "session_limit": repo.session_limit,
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
        # It answers 200 at once and handles the update in a task of its own; stop() waits for
        # those tasks like polling's. The route is added by hand because the handler's
        # register() would also close the Bot session when the web app shuts down, under the
        # updates still being handled.
        handler = SimpleRequestHandler(dispatcher=self.dp, bot=self.bot, secret_token=secret)
        self._webhook_handler = handler
        app.router.add_route("POST", "/telegram", handler.handle)
        setup_application(app, self.dp, bot=self.bot)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.webhook_host, self.settings.webhook_port)
        await site.start()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def stop(self, grace_seconds: float = DRAIN_SECONDS) -> None:
        """Stop taking work, let updates being handled finish (bounded), then close everything."""
        self.telemetry.health.set("bot", False)
        await self._drain_updates(grace_seconds)
        if self._menus is not None and not self._menus.done():
            self._menus.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._menus
        await self._stack.aclose()

    async def _drain_updates(self, grace_seconds: float) -> None:
        """Updates being handled finish before their dependencies close (jobs: open_process)."""
        if self.dp is not None:
            # aiogram keeps the tasks of updates being handled here (polling) and in the webhook
            # handler, and offers no public accessor for either.
            tasks = set(self.dp._handle_update_tasks)
            if self._webhook_handler is not None:
                tasks |= self._webhook_handler._background_feed_update_tasks
            handlers = {t for t in tasks if not t.done()}
            if handlers:
                _, late = await asyncio.wait(handlers, timeout=grace_seconds)
                for task in late:
                    task.cancel()
                if late:
                    await asyncio.wait(late, timeout=5)


async def run_service(settings: Settings) -> int:
    """``csvbot run``: the bot until SIGTERM/SIGINT, then a clean shutdown."""
    telemetry = Telemetry.start(settings, service="bot")
    app = BotApp(settings, telemetry)
    try:
        await app.start()
        freeze_startup_heap()
        await run_until_signal(app.serve())
        return 0
    finally:
        await app.stop()
        await telemetry.stop()
