"""Build the aiogram ``Bot`` (the API client) from settings."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.methods import Response, TelegramMethod
from aiogram.utils.token import TokenValidationError
from aiohttp import ClientConnectionError, ClientSession

from service.config import Settings
from service.errors import ConfigError
from service.telegram.api_session import TelemetryRequestMiddleware
from telemetry.metrics import Metrics

#: ``Response[T]`` for every result type this process has parsed, held for the process's life.
#: aiogram builds ``Response[method.__returning__]`` on every call, and pydantic caches a
#: parametrised model only weakly: the cyclic GC frees it between calls and the next call builds
#: its schema again (~5 ms each). Under 100 commands/s that rebuilt ``Response[list[Update]]``
#: and ``Response[Message]`` about 25 times a second, 14 % of the bot's CPU (bench/profile_bot.py).
_RESPONSE_TYPES: dict[Any, type[Response[Any]]] = {}


class ProcessSession(AiohttpSession):
    """The process's one HTTP session to the Bot API, closed for good at shutdown.

    aiogram's session opens a new aiohttp ``ClientSession`` on the next request after ``close()``:
    a send that outlives shutdown (a late notification, a retry) would open one that nothing
    closes. After :meth:`shut_down` such a request fails at once instead, as a network error the
    callers already handle.
    """

    _shut_down = False

    async def shut_down(self) -> None:
        self._shut_down = True
        await self.close()

    async def create_session(self) -> ClientSession:
        if self._shut_down:
            raise ClientConnectionError("the Bot API session is closed: this process is shutting down")
        return await super().create_session()

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        returning = method.__returning__
        if returning not in _RESPONSE_TYPES:
            _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def build_bot(settings: Settings, metrics: Metrics) -> Bot:
    """A ``Bot`` whose every API call is measured, traced and retried on 429/5xx."""
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise ConfigError("BOT_TOKEN", "is required to talk to Telegram (get one from @BotFather)")
    api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else PRODUCTION
    session = ProcessSession(api=api)
    session.middleware(TelemetryRequestMiddleware(metrics))
    try:
        return Bot(token=settings.bot_token.get_secret_value(), session=session)
    except TokenValidationError:
        raise ConfigError("BOT_TOKEN", "is not a bot token (expected digits:secret)") from None


async def shut_down_session(bot: Bot) -> None:
    """Close ``bot``'s session for good (see :class:`ProcessSession`)."""
    session = bot.session
    if isinstance(session, ProcessSession):
        await session.shut_down()
    else:
        await session.close()
