"""FloodLimitMiddleware: a per-user sliding window of messages, one polite reply per burst."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.types import TelegramObject

from emulators.telegram import EmulatedUser, TelegramEmulator
from service import messages
from service.bot.middlewares import FloodLimitMiddleware, UpdateOutcome
from telemetry.metrics import Metrics
from tests.unit.bot.conftest import MakeMessage, tg_user

WINDOW = 0.3


class Recorder:
    """The next handler in the chain: records what got through."""

    def __init__(self) -> None:
        self.handled: list[TelegramObject] = []

    async def __call__(self, event: TelegramObject, data: dict[str, Any]) -> str:
        self.handled.append(event)
        return "handled"


async def send(
    limiter: FloodLimitMiddleware, handler: Recorder, make_message: MakeMessage, user: EmulatedUser
) -> tuple[Any, UpdateOutcome]:
    outcome = UpdateOutcome()
    data = {"event_from_user": tg_user(user), "update_outcome": outcome}
    return await limiter(handler, make_message(user), data), outcome


def warnings(emulator: TelegramEmulator, user: EmulatedUser) -> int:
    return sum(1 for entry in emulator.bot_messages(user.chat_id) if entry.text == messages.too_fast())


async def test_messages_within_the_limit_reach_the_handler(
    emulator: TelegramEmulator, metrics: Metrics, make_message: MakeMessage
) -> None:
    limiter, handler = FloodLimitMiddleware(metrics, max_updates=3, window=WINDOW), Recorder()
    user = emulator.create_user()
    results = [await send(limiter, handler, make_message, user) for _ in range(3)]

    assert [result for result, _ in results] == ["handled"] * 3
    assert len(handler.handled) == 3
    assert metrics.registry.get_sample_value("csvbot_flood_limited_total") == 0


async def test_a_burst_over_the_limit_is_dropped_counted_and_answered_once(
    emulator: TelegramEmulator, metrics: Metrics, make_message: MakeMessage
) -> None:
    limiter, handler = FloodLimitMiddleware(metrics, max_updates=3, window=WINDOW), Recorder()
    user = emulator.create_user()
    results = [await send(limiter, handler, make_message, user) for _ in range(6)]

    assert len(handler.handled) == 3
    refused = results[3:]
    assert all(result is None for result, _ in refused)
    assert all((o.outcome, o.error_kind) == ("rejected", "flood_limited") for _, o in refused)
    assert metrics.registry.get_sample_value("csvbot_flood_limited_total") == 3
    assert (
        metrics.registry.get_sample_value(
            "csvbot_errors_total", {"component": "bot", "kind": "flood_limited"}
        )
        == 3
    )
    assert warnings(emulator, user) == 1, "one polite reply per burst, not one per message"


async def test_the_window_slides_and_a_new_burst_is_warned_again(
    emulator: TelegramEmulator, metrics: Metrics, make_message: MakeMessage
) -> None:
    limiter, handler = FloodLimitMiddleware(metrics, max_updates=2, window=WINDOW), Recorder()
    user = emulator.create_user()
    for _ in range(3):
        await send(limiter, handler, make_message, user)
    await asyncio.sleep(WINDOW + 0.05)
    after_pause = [await send(limiter, handler, make_message, user) for _ in range(3)]

    assert [result for result, _ in after_pause] == ["handled", "handled", None]
    assert len(handler.handled) == 4
    assert warnings(emulator, user) == 2


async def test_users_are_limited_independently(
    emulator: TelegramEmulator, metrics: Metrics, make_message: MakeMessage
) -> None:
    limiter, handler = FloodLimitMiddleware(metrics, max_updates=1, window=WINDOW), Recorder()
    noisy, quiet = emulator.create_user("noisy"), emulator.create_user("quiet")
    await send(limiter, handler, make_message, noisy)
    refused, _ = await send(limiter, handler, make_message, noisy)
    allowed, _ = await send(limiter, handler, make_message, quiet)

    assert refused is None
    assert allowed == "handled"


async def test_the_least_recently_seen_user_is_forgotten_beyond_max_users(
    emulator: TelegramEmulator, metrics: Metrics, make_message: MakeMessage
) -> None:
    """Memory stays bounded: past ``max_users`` the oldest user's history is dropped."""
    limiter = FloodLimitMiddleware(metrics, max_updates=1, window=60, max_users=2)
    handler = Recorder()
    first, second, third = (emulator.create_user(name) for name in ("a", "b", "c"))
    await send(limiter, handler, make_message, first)
    await send(limiter, handler, make_message, second)
    await send(limiter, handler, make_message, third)
    again, _ = await send(limiter, handler, make_message, first)

    assert again == "handled", "the first user's history was forgotten, so the limit starts afresh"


async def test_events_without_a_user_pass_through(metrics: Metrics, make_message: MakeMessage) -> None:
    limiter, handler = FloodLimitMiddleware(metrics, max_updates=1, window=WINDOW), Recorder()
    user = EmulatedUser(id=42, first_name="anon")
    results = [await limiter(handler, make_message(user), {}) for _ in range(3)]

    assert results == ["handled"] * 3
