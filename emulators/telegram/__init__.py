"""A Telegram Bot API emulator: the real wire protocol on 127.0.0.1, and a control API.

aiogram runs unchanged against it (``AiohttpSession(api=emulator.api_server())``); tests and
``csvbot simulate`` act as users, read transcripts and inject faults through ``TelegramEmulator``
in-process, or through ``/_emulator/...`` over HTTP from another process.
"""

from emulators.telegram.chats import ChatEvent
from emulators.telegram.emulator import DEFAULT_TOKEN, TelegramEmulator
from emulators.telegram.faults import CallStats, FaultRule
from emulators.telegram.objects import (
    BotIdentity,
    EditRecord,
    EmulatedUser,
    StoredFile,
    TranscriptEntry,
)
from emulators.telegram.state import CallbackQueryRecord, EmulatorLimits

__all__ = [
    "DEFAULT_TOKEN",
    "BotIdentity",
    "CallStats",
    "CallbackQueryRecord",
    "ChatEvent",
    "EditRecord",
    "EmulatedUser",
    "EmulatorLimits",
    "FaultRule",
    "StoredFile",
    "TelegramEmulator",
    "TranscriptEntry",
]
