"""Build the aiogram ``Bot`` (the API client) from settings."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.utils.token import TokenValidationError

from service.config import Settings
from service.errors import ConfigError
from service.telegram.api_session import TelemetryRequestMiddleware
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
