"""getMe, the bot-command menu methods and answerCallbackQuery."""

from __future__ import annotations

import re
from typing import Any

from emulators.telegram.errors import bad_request
from emulators.telegram.methods.common import MethodHandler
from emulators.telegram.params import Params
from emulators.telegram.state import EmulatorState, command_menu_key

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
MAX_CALLBACK_ANSWER = 200


async def get_me(state: EmulatorState, params: Params) -> dict[str, Any]:
    return state.bot.to_json()


def _menu_key(params: Params) -> str:
    scope = params.get_json("scope")
    if scope is not None and not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    language_code = params.get_str("language_code")
    # The Bot API takes an ISO 639-1 code: two letters (or empty, for every language).
    if language_code and not _LANGUAGE_CODE.fullmatch(language_code):
        raise bad_request("invalid language code specified")
    return command_menu_key(scope, language_code)


async def set_my_commands(state: EmulatorState, params: Params) -> bool:
    commands = params.get_json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON array")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= MAX_COMMAND_DESCRIPTION:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    state.commands[_menu_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


async def get_my_commands(state: EmulatorState, params: Params) -> list[dict[str, Any]]:
    return list(state.commands.get(_menu_key(params), []))


async def delete_my_commands(state: EmulatorState, params: Params) -> bool:
    state.commands.pop(_menu_key(params), None)
    return True


async def answer_callback_query(state: EmulatorState, params: Params) -> bool:
    query_id = params.get_str("callback_query_id")
    record = state.callbacks.get(query_id) if query_id else None
    if record is None or record.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get_str("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    record.answer_text = text
    record.show_alert = params.get_bool("show_alert")
    return True


METHODS: dict[str, MethodHandler] = {
    "getMe": get_me,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "answerCallbackQuery": answer_callback_query,
}
