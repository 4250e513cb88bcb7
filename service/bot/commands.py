"""/start, /help, and a friendly answer to anything that is not a command or a file."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from service import messages
from service.deps import Services


def build_router() -> Router:
    router = Router(name="commands")
    router.message.register(on_start, CommandStart(), flags={"handler": "start"})
    router.message.register(on_help, Command("help"), flags={"handler": "help"})
    # Last: it takes any message that is not a document, so the commands above must match first.
    router.message.register(on_anything_else, ~F.document, flags={"handler": "other"})
    return router


async def on_start(message: Message, services: Services) -> None:
    if message.from_user is not None:
        await services.repo.upsert_user(
            user_id=message.from_user.id, chat_id=message.chat.id, username=message.from_user.username
        )
    await message.answer(messages.start_text(services.settings))


async def on_help(message: Message, services: Services) -> None:
    await message.answer(messages.help_text(services.settings))


async def on_anything_else(message: Message, services: Services) -> None:
    """Photos, stickers, plain text: explain what the bot expects instead of staying silent."""
    if message.text and message.text.startswith("/"):
        await message.answer(messages.unknown_command(services.settings))
    else:
        await message.answer(messages.not_a_document())
