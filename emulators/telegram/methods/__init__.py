"""The Bot API methods the emulator implements, by case-insensitive name."""

from __future__ import annotations

from types import MappingProxyType

from emulators.telegram.methods import bot, files, messages, updates
from emulators.telegram.methods.common import MethodHandler

_ALL = {**bot.METHODS, **messages.METHODS, **files.METHODS, **updates.METHODS}

# Lower-cased name -> (canonical name, handler). Telegram matches method names ignoring case.
BOT_API_METHODS: MappingProxyType[str, tuple[str, MethodHandler]] = MappingProxyType(
    {name.lower(): (name, handler) for name, handler in _ALL.items()}
)

__all__ = ["BOT_API_METHODS", "MethodHandler"]
