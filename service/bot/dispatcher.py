"""Build the aiogram ``Bot`` and ``Dispatcher`` from settings and the process's services."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.dispatcher.middlewares.error import ErrorsMiddleware
from aiogram.utils.token import TokenValidationError

from service.bot import admin, commands, errors, jobs, uploads
from service.bot.api_session import TelemetryRequestMiddleware
from service.bot.middlewares import (
    ActiveUsers,
    FloodLimitMiddleware,
    HandlerNameMiddleware,
    UpdateTelemetryMiddleware,
)
from service.config import Settings
from service.deps import Services
from service.errors import ConfigError
from telemetry.metrics import Metrics


def build_bot(settings: Settings, metrics: Metrics) -> Bot:
    """A ``Bot`` whose every API call is measured, traced and retried on 429/5xx."""
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise ConfigError("BOT_TOKEN", "is required to talk to Telegram (get one from @BotFather)")
    api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else PRODUCTION
    session = AiohttpSession(api=api)
    session.middleware(TelemetryRequestMiddleware(metrics))
    try:
        return Bot(token=settings.bot_token.get_secret_value(), session=session)
    except TokenValidationError:
        raise ConfigError("BOT_TOKEN", "is not a bot token (expected digits:secret)") from None


def build_dispatcher(services: Services) -> Dispatcher:
    dp = Dispatcher()
    dp["services"] = services
    # aiogram registers its ErrorsMiddleware first, outside every middleware added here; moved
    # inside the telemetry middleware, the error handler's reply and log line belong to the
    # update's span (and its trace id), and the handler can set the update's outcome.
    errors_middleware = next(m for m in dp.update.outer_middleware if isinstance(m, ErrorsMiddleware))
    dp.update.outer_middleware.unregister(errors_middleware)
    dp.update.outer_middleware(UpdateTelemetryMiddleware(services.metrics, ActiveUsers()))
    dp.update.outer_middleware(errors_middleware)
    dp.message.outer_middleware(
        FloodLimitMiddleware(
            services.metrics,
            max_updates=services.settings.flood_max_updates,
            window=services.settings.flood_window_seconds,
        )
    )
    dp.message.middleware(HandlerNameMiddleware())
    # Order matters: commands before the catch-all "anything else" handler in ``commands``.
    # Routers are built per dispatcher: an aiogram router attaches to one parent only, so
    # module-level routers would make a second dispatcher in one process (the simulator's
    # capacity search, tests) fail with "Router is already attached".
    dp.include_routers(
        admin.build_router(),
        jobs.build_router(),
        uploads.build_router(),
        commands.build_router(),
        errors.build_router(),
    )
    return dp
