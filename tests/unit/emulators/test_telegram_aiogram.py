"""aiogram's own HTTP session and Dispatcher, unchanged, against the Telegram emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)

from emulators.telegram import EmulatorLimits, TelegramEmulator


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(seed=1) as emulator:
        yield emulator


@pytest.fixture
async def bot(emulator: TelegramEmulator) -> AsyncIterator[Bot]:
    bot = Bot(emulator.token, session=AiohttpSession(api=emulator.api_server()))
    yield bot
    await bot.session.close()


async def _polling(dispatcher: Dispatcher, bot: Bot) -> asyncio.Task[None]:
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    await asyncio.sleep(0)
    return task


async def _stop(dispatcher: Dispatcher, task: asyncio.Task[None]) -> None:
    await dispatcher.stop_polling()
    await asyncio.wait_for(task, 5)


async def test_start_command_reply_lands_in_transcript(emulator: TelegramEmulator, bot: Bot) -> None:
    """A user's /start reaches a polling Dispatcher as a command; the reply is in the chat."""
    dispatcher = Dispatcher()
    seen_commands: list[str] = []

    @dispatcher.message(CommandStart())
    async def on_start(message: Message) -> None:
        seen_commands.append(message.text or "")
        await message.answer("Send me a <b>CSV</b> file.", parse_mode="HTML")

    task = await _polling(dispatcher, bot)
    user = emulator.create_user("Ann", username="ann")
    emulator.send_text(user.id, "/start")
    reply = await emulator.wait_for_message(user.chat_id, timeout=5)
    await _stop(dispatcher, task)

    assert seen_commands == ["/start"]
    assert reply.text == "Send me a CSV file."
    assert reply.entities == [{"type": "bold", "offset": 10, "length": 3}]
    assert [entry.sender for entry in emulator.transcript(user.chat_id)] == ["user", "bot"]
    assert emulator.transcript(user.chat_id)[0].entities[0]["type"] == "bot_command"


async def test_user_document_downloads_with_identical_bytes(emulator: TelegramEmulator, bot: Bot) -> None:
    """A document a user sends is fetched by bot.download byte for byte, with its metadata."""
    dispatcher = Dispatcher()
    received: list[tuple[bytes, str | None, str | None, int | None]] = []

    @dispatcher.message(F.document)
    async def on_document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        buffer = await bot.download(message.document)
        assert buffer is not None
        document = message.document
        received.append((buffer.read(), document.file_name, document.mime_type, document.file_size))
        await message.answer("got it")

    payload = "name;city\nАня;Москва\n".encode("cp1251") * 500
    task = await _polling(dispatcher, bot)
    user = emulator.create_user()
    await emulator.send_document(user.id, payload, "people.csv", caption="please clean")
    await emulator.wait_for_message(user.chat_id, lambda e: e.text == "got it", timeout=5)
    await _stop(dispatcher, task)

    assert received == [(payload, "people.csv", "text/csv", len(payload))]


async def test_bot_document_bytes_are_kept_in_transcript(emulator: TelegramEmulator, bot: Bot) -> None:
    """sendDocument with a BufferedInputFile stores the upload; the transcript returns its bytes."""
    user = emulator.create_user()
    sent = await bot.send_document(
        user.chat_id, BufferedInputFile(b"a,b\r\n1,2\r\n", "cleaned.csv"), caption="Cleaned"
    )
    entry = emulator.transcript(user.chat_id)[-1]

    assert sent.document is not None and entry.document is not None
    assert sent.document.file_id == entry.document.file_id
    assert (entry.document.file_name, entry.document.mime_type) == ("cleaned.csv", "text/csv")
    assert entry.caption == "Cleaned"
    assert await emulator.read_file(entry.document.file_id) == b"a,b\r\n1,2\r\n"


async def test_document_resent_by_file_id_reuses_the_file(emulator: TelegramEmulator, bot: Bot) -> None:
    """Re-sending a document by file_id needs no upload and points at the same stored file."""
    user = emulator.create_user()
    first = await bot.send_document(user.chat_id, BufferedInputFile(b"x\n1\n", "one.csv"))
    assert first.document is not None
    again = await bot.send_document(user.chat_id, first.document.file_id)

    assert again.document is not None
    assert again.document.file_id == first.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(user.chat_id, "no-such-file-id")


async def test_edit_message_text_applies_and_keeps_history(emulator: TelegramEmulator, bot: Bot) -> None:
    """editMessageText changes the bot's message in place and records the previous text."""
    user = emulator.create_user()
    progress = await bot.send_message(user.chat_id, "Queued")
    edited = await bot.edit_message_text(
        "Done: 10 rows", chat_id=user.chat_id, message_id=progress.message_id
    )
    entry = emulator.transcript(user.chat_id)[-1]

    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    assert (entry.message_id, entry.text, entry.edit_history) == (
        progress.message_id,
        "Done: 10 rows",
        ["Queued"],
    )


async def test_bad_requests_carry_telegram_descriptions(emulator: TelegramEmulator, bot: Bot) -> None:
    """Edits of missing or unchanged messages, unknown chats and empty text fail with 400s."""
    user = emulator.create_user()
    sent = await bot.send_message(user.chat_id, "same")

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=user.chat_id, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("same", chat_id=user.chat_id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(user.chat_id, "   ")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(user.chat_id, "1 < 2", parse_mode="HTML")
    assert emulator.stats.calls("sendMessage", 400) == 3


async def test_get_file_refuses_files_over_the_bot_download_limit() -> None:
    """getFile answers 'file is too big' past the download limit, as Telegram does at 20 MB."""
    async with TelegramEmulator(limits=EmulatorLimits(max_download_bytes=1000)) as small:
        small_bot = Bot(small.token, session=AiohttpSession(api=small.api_server()))
        user = small.create_user()
        big = await small.send_document(user.id, b"x" * 1001, "big.csv")
        fits = await small.send_document(user.id, b"x" * 1000, "fits.csv")
        assert big.document is not None and fits.document is not None
        try:
            with pytest.raises(TelegramBadRequest, match="file is too big"):
                await small_bot.get_file(big.document.file_id)
            assert (await small_bot.get_file(fits.document.file_id)).file_size == 1000
        finally:
            await small_bot.session.close()


async def test_injected_429_raises_retry_after_with_its_value(emulator: TelegramEmulator, bot: Bot) -> None:
    """A rate-limit fault on sendMessage makes aiogram raise TelegramRetryAfter(retry_after=7)."""
    user = emulator.create_user()
    emulator.inject_rate_limit("sendMessage", retry_after=7, count=1)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user.chat_id, "hi")
    await bot.send_message(user.chat_id, "hi")  # the fault was for one call only

    assert caught.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in caught.value.message
    assert emulator.stats.calls("sendMessage", 429) == 1
    assert [entry.text for entry in emulator.transcript(user.chat_id)] == ["hi"]


@pytest.mark.parametrize(("status", "description"), [(500, "Internal Server Error"), (502, "Bad Gateway")])
async def test_injected_5xx_raises_server_error(
    emulator: TelegramEmulator, bot: Bot, status: int, description: str
) -> None:
    """A server-error fault surfaces in aiogram as TelegramServerError with Telegram's text."""
    user = emulator.create_user()
    emulator.inject_server_error(["sendmessage"], status=status, count=1)

    with pytest.raises(TelegramServerError, match=description):
        await bot.send_message(user.chat_id, "hi")
    assert emulator.stats.calls("sendMessage", status) == 1


async def test_unknown_method_answers_telegram_404(bot: Bot) -> None:
    """A method the API does not have is a 404 'Not Found: method not found'."""

    class SendTelepathy(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "sendTelepathy"

    with pytest.raises(TelegramNotFound, match="Not Found: method not found"):
        await bot(SendTelepathy())


async def test_wrong_token_is_unauthorized(emulator: TelegramEmulator) -> None:
    """A bot with another token gets 401 Unauthorized, even for getMe."""
    stranger = Bot("42:not-the-token", session=AiohttpSession(api=emulator.api_server()))
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_get_me_and_commands_describe_the_bot(emulator: TelegramEmulator, bot: Bot) -> None:
    """getMe returns the identity from the token; setMyCommands is stored for the test to read."""
    me = await bot.get_me()
    await bot.set_my_commands([BotCommand(command="jobs", description="Your recent jobs")])

    assert (me.id, me.is_bot, me.username) == (123456789, True, emulator.bot.username)
    assert emulator.bot_commands() == [{"command": "jobs", "description": "Your recent jobs"}]


async def test_callback_button_is_answered(emulator: TelegramEmulator, bot: Bot) -> None:
    """A tapped inline button arrives as a callback query that answerCallbackQuery answers once."""
    dispatcher = Dispatcher()

    @dispatcher.message(Command("jobs"))
    async def on_jobs(message: Message) -> None:
        await message.answer(
            "Recent jobs",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Job 1", callback_data="job:1")]]
            ),
        )

    @dispatcher.callback_query(F.data == "job:1")
    async def on_job(query: CallbackQuery) -> None:
        await query.answer("Job 1 is done")

    task = await _polling(dispatcher, bot)
    user = emulator.create_user()
    emulator.send_text(user.id, "/jobs")
    menu = await emulator.wait_for_message(user.chat_id, timeout=5)
    query = emulator.press_button(user.id, menu.message_id, "job:1")
    for _ in range(100):
        if emulator.callback_query(query.id).answered:
            break
        await asyncio.sleep(0.02)
    await _stop(dispatcher, task)

    assert emulator.callback_query(query.id).answer_text == "Job 1 is done"


async def test_delete_message_and_chat_action_are_recorded(emulator: TelegramEmulator, bot: Bot) -> None:
    """deleteMessage marks the entry deleted (twice is a 400); sendChatAction is counted."""
    user = emulator.create_user()
    sent = await bot.send_message(user.chat_id, "temporary")
    await bot.send_chat_action(user.chat_id, "upload_document")
    assert await bot.delete_message(user.chat_id, sent.message_id) is True

    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user.chat_id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(user.chat_id, "dancing")
    assert emulator.transcript(user.chat_id)[-1].deleted is True
    assert emulator.chat_actions(user.chat_id) == {"upload_document": 1}


async def test_reply_to_a_user_message_is_echoed(emulator: TelegramEmulator, bot: Bot) -> None:
    """A reply carries reply_to_message, and a missing target is Telegram's 400."""
    user = emulator.create_user()
    question = emulator.send_text(user.id, "/job 7")
    answer = await bot.send_message(
        user.chat_id, "Job 7: done", reply_parameters=ReplyParameters(message_id=question.message_id)
    )

    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "/job 7"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(user.chat_id, "x", reply_parameters=ReplyParameters(message_id=999))


async def test_upload_over_the_bot_limit_is_entity_too_large() -> None:
    """An upload past max_upload_bytes (Telegram: 50 MB) answers 413, and nothing is stored."""
    async with TelegramEmulator(limits=EmulatorLimits(max_upload_bytes=4096)) as small:
        small_bot = Bot(small.token, session=AiohttpSession(api=small.api_server()))
        user = small.create_user()
        try:
            with pytest.raises(TelegramEntityTooLarge):
                await small_bot.send_document(
                    user.chat_id, BufferedInputFile(b"x" * (2 * 1024 * 1024), "huge.csv")
                )
        finally:
            await small_bot.session.close()

        assert small.transcript(user.chat_id) == []
        assert small.stats.calls("sendDocument", 413) == 1
