"""Build the aiogram ``Bot`` and ``Dispatcher`` from settings and the process's services."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
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
    if settings.bot_token is None:
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
    dp.update.outer_middleware(UpdateTelemetryMiddleware(services.metrics, ActiveUsers()))
    dp.message.outer_middleware(
        FloodLimitMiddleware(
            services.metrics,
            max_updates=services.settings.flood_max_updates,
            window=services.settings.flood_window_seconds,
        )
    )
    dp.message.middleware(HandlerNameMiddleware())
    # Order matters: commands before the catch-all "anything else" handler in ``commands``.
    dp.include_routers(admin.router, jobs.router, uploads.router, commands.router, errors.router)
    return dp
