"""``TelegramEmulator``: the Bot API on 127.0.0.1 plus a control API to act as its users.

Point aiogram at it with ``Bot(token, session=AiohttpSession(api=emulator.api_server()))``;
drive it in-process through the methods below, or from another process through the same
operations over HTTP under ``/_emulator/`` (see ``control_http``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from emulators.telegram import actions
from emulators.telegram.chats import ChatListener, EntryPredicate
from emulators.telegram.control_http import ControlApi
from emulators.telegram.faults import CallStats, FaultRule
from emulators.telegram.objects import BotIdentity, EmulatedUser, Sender, TranscriptEntry
from emulators.telegram.server import BotApi, handle_unknown_path
from emulators.telegram.state import (
    CallbackQueryRecord,
    EmulatorLimits,
    EmulatorState,
    command_menu_key,
)
from emulators.telegram.webhook import WebhookDelivery

# Public on purpose: it only opens this local emulator.
DEFAULT_TOKEN = "123456789:csvbot-emulator-token"  # noqa: S105
LOOPBACK = "127.0.0.1"

Methods = str | Iterable[str]


def _method_set(methods: Methods) -> frozenset[str]:
    return frozenset([methods] if isinstance(methods, str) else methods)


class TelegramEmulator:
    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "csvbot_emulated_bot",
        bot_first_name: str = "csvbot",
        port: int = 0,
        limits: EmulatorLimits | None = None,
        seed: int | None = None,
        spill_dir: Path | None = None,
        webhook_timeout_seconds: float = 10.0,
    ) -> None:
        left, _, secret = token.partition(":")
        if not left.isdigit() or not secret:
            raise ValueError("token must look like a Bot API token: '<digits>:<secret>'")
        self._state = EmulatorState(
            bot=BotIdentity(token, bot_first_name, bot_username),
            limits=limits or EmulatorLimits(),
            rng=random.Random(seed),
            spill_dir=spill_dir,
        )
        self._requested_port = port
        self._bot_api = BotApi(self._state)
        self._webhooks = WebhookDelivery(
            self._state, self._bot_api.execute_reply, timeout_seconds=webhook_timeout_seconds
        )
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port unless one was given). Idempotent."""
        if self._runner is not None:
            return
        self._state.updates.reopen()
        app = web.Application(client_max_size=self._bot_api.max_body_bytes)
        ControlApi(self).add_routes(app)
        self._bot_api.add_routes(app)
        app.router.add_route("*", "/{tail:.*}", handle_unknown_path)
        # 1 s: long polls are released before cleanup; anything still running (an injected
        # latency, a transcript long poll) is cut short rather than holding stop() for 60 s.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, LOOPBACK, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]
        await self._webhooks.start()

    async def stop(self) -> None:
        """Stop serving, release waiting long polls and delete spilled files. Idempotent."""
        if self._runner is None:
            return
        self._state.updates.close()
        await self._webhooks.stop()
        await self._runner.cleanup()
        self._runner = None
        self._state.files.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; only valid after ``start()``."""
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{LOOPBACK}:{self._port}"

    @property
    def token(self) -> str:
        return self._state.bot.token

    @property
    def bot(self) -> BotIdentity:
        return self._state.bot

    @property
    def state(self) -> EmulatorState:
        """The emulated world itself, for inspection beyond the methods below."""
        return self._state

    def api_server(self) -> TelegramAPIServer:
        """aiogram's server description pointing at this emulator."""
        return TelegramAPIServer.from_base(self.url)

    # --- users ---------------------------------------------------------------------------------

    def create_user(
        self,
        first_name: str | None = None,
        *,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> EmulatedUser:
        """A new user with an empty private chat (chat id == user id)."""
        return self._state.add_user(
            first_name, username=username, language_code=language_code, user_id=user_id
        )

    def users(self) -> list[EmulatedUser]:
        return list(self._state.users.values())

    def send_text(self, user_id: int, text: str) -> TranscriptEntry:
        """The user sends ``text`` (``/commands`` carry ``bot_command`` entities)."""
        return actions.user_sends_text(self._state, user_id, text)

    async def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> TranscriptEntry:
        """The user sends a file; the bot gets a ``Document`` it can download."""
        return await actions.user_sends_document(
            self._state, user_id, data, file_name=file_name, mime_type=mime_type, caption=caption
        )

    def press_button(self, user_id: int, message_id: int, data: str) -> CallbackQueryRecord:
        """The user taps an inline button with ``callback_data`` ``data`` on a bot message."""
        return actions.user_presses_button(self._state, user_id, message_id, data)

    # --- transcripts and files -----------------------------------------------------------------

    def transcript(self, chat_id: int) -> list[TranscriptEntry]:
        """Both sides of the chat, oldest first, edits applied (history in ``entry.edits``)."""
        return self._state.chat(chat_id).entries()

    def bot_messages(self, chat_id: int) -> list[TranscriptEntry]:
        return [entry for entry in self.transcript(chat_id) if entry.sender == "bot"]

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: EntryPredicate | None = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - a default bound so a forgotten wait cannot hang
        sender: Sender | None = "bot",
    ) -> TranscriptEntry:
        """The first entry from ``sender`` (``None``: either) matching ``predicate``.

        Entries already in the transcript count, and so do later edits. Raises ``TimeoutError``
        naming the chat's last messages when nothing matches within ``timeout`` seconds.
        """

        def matches(entry: TranscriptEntry) -> bool:
            if sender is not None and entry.sender != sender:
                return False
            return predicate is None or predicate(entry)

        chat = self._state.chat(chat_id)
        try:
            return await chat.wait_for(matches, timeout)
        except TimeoutError:
            recent = [f"{e.sender}: {e.content!r}" for e in chat.entries()[-5:]]
            raise TimeoutError(
                f"no matching message in chat {chat_id} within {timeout}s; last: {recent}"
            ) from None

    async def read_file(self, file_id: str) -> bytes:
        """The bytes of any file in the emulator (a user's upload or a document the bot sent)."""
        if self._state.files.get(file_id) is None:
            raise LookupError(f"no file with id {file_id!r}")
        return await self._state.files.read(file_id)

    def chat_actions(self, chat_id: int) -> dict[str, int]:
        """How many times the bot sent each chat action (``typing``, …) to the chat."""
        return dict(self._state.chat(chat_id).chat_actions)

    def callback_query(self, query_id: str) -> CallbackQueryRecord:
        try:
            return self._state.callbacks[query_id]
        except KeyError:
            raise LookupError(f"no callback query {query_id!r}") from None

    def bot_commands(
        self, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        """The command menu the bot set with setMyCommands (default scope unless given)."""
        return list(self._state.commands.get(command_menu_key(scope, language_code), []))

    def add_listener(self, listener: ChatListener) -> None:
        """Call ``listener(event)`` synchronously on every new, edited or deleted message."""
        self._state.listeners.append(listener)

    def remove_listener(self, listener: ChatListener) -> None:
        self._state.listeners.remove(listener)

    # --- faults and counters -------------------------------------------------------------------

    def add_fault(self, rule: FaultRule) -> FaultRule:
        return self._state.faults.add(rule)

    def inject_rate_limit(
        self,
        methods: Methods = (),
        *,
        retry_after: int = 1,
        count: int | None = None,
        probability: float = 1.0,
    ) -> FaultRule:
        """429 ``Too Many Requests: retry after N`` with ``parameters.retry_after``."""
        rule = FaultRule("rate_limit", _method_set(methods), count, probability, retry_after=retry_after)
        return self.add_fault(rule)

    def inject_server_error(
        self,
        methods: Methods = (),
        *,
        status: int = 500,
        count: int | None = None,
        probability: float = 1.0,
    ) -> FaultRule:
        """A 5xx with Telegram's description for that status."""
        rule = FaultRule("server_error", _method_set(methods), count, probability, status=status)
        return self.add_fault(rule)

    def inject_latency(
        self,
        methods: Methods = (),
        *,
        seconds: float,
        count: int | None = None,
        probability: float = 1.0,
    ) -> FaultRule:
        """Delay matching calls by ``seconds`` before they are handled."""
        rule = FaultRule("latency", _method_set(methods), count, probability, latency_seconds=seconds)
        return self.add_fault(rule)

    def remove_fault(self, rule_id: int) -> bool:
        return self._state.faults.remove(rule_id)

    def clear_faults(self) -> None:
        self._state.faults.clear()

    def faults(self) -> list[FaultRule]:
        """Active rules (count-limited rules disappear once used up)."""
        return self._state.faults.rules()

    @property
    def stats(self) -> CallStats:
        """Bot API calls served, by method, by status and by both."""
        return self._state.stats

    def snapshot(self) -> dict[str, Any]:
        """Counters plus the sizes that show whether the emulator itself is a bottleneck."""
        return self._state.snapshot()
