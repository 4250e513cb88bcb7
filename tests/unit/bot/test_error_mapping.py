"""One place maps errors to the user's reply and the update's outcome (service/bot/errors.py),
checked alone and through the real dispatcher with its middlewares."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Document, Update

from emulators.telegram import TelegramEmulator
from service.bot.dispatcher import build_dispatcher
from service.bot.errors import outcome_for, user_message_for
from service.config import Settings
from service.deps import Services
from service.errors import (
    CsvbotError,
    DatabaseUnavailableError,
    EmptyFileError,
    FieldTooLongError,
    FloodLimitedError,
    InternalError,
    JobNotFoundError,
    NotCsvError,
    StorageTimeoutError,
    TelegramUnavailableError,
)
from telemetry.metrics import Metrics
from telemetry.server import HealthState
from tests.unit.bot.conftest import MakeMessage


@pytest.mark.parametrize(
    "error",
    [NotCsvError(), EmptyFileError(), FieldTooLongError(), FloodLimitedError(), JobNotFoundError()],
    ids=lambda e: e.kind,
)
def test_refused_input_and_requests_are_rejected_not_failed(error: CsvbotError) -> None:
    assert outcome_for(error) == "rejected"


@pytest.mark.parametrize(
    "error",
    [
        StorageTimeoutError(),
        DatabaseUnavailableError(),
        TelegramUnavailableError(),
        InternalError(),
        ValueError("a bug"),
        KeyError("x"),
    ],
    ids=lambda e: getattr(e, "kind", type(e).__name__),
)
def test_service_problems_and_bugs_are_failed(error: BaseException) -> None:
    assert outcome_for(error) == "failed"


def test_a_csvbot_error_is_told_to_the_user_in_its_own_words() -> None:
    assert user_message_for(NotCsvError(user_message="photo.png is an image")) == "photo.png is an image"
    assert user_message_for(StorageTimeoutError()) == StorageTimeoutError.user_message


def test_an_unexpected_exception_is_told_generically_without_its_text() -> None:
    message = user_message_for(RuntimeError("password=hunter2 at db.internal:5432"))
    assert message == CsvbotError.user_message
    assert "hunter2" not in message and "db.internal" not in message


class RepoThatFails:
    """The one repository call /start makes blows up with a bug, not a typed error."""

    async def upsert_user(self, **_: Any) -> None:
        raise RuntimeError("password=hunter2 at db.internal:5432")


def services(metrics: Metrics, repo: Any = None) -> Services:
    async def enqueue(job_id: str, carrier: dict[str, str]) -> None:
        raise AssertionError("nothing may be enqueued here")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return Services(
        settings=settings, metrics=metrics, repo=repo, storage=None, enqueue=enqueue, health=HealthState()
    )  # type: ignore[arg-type]


def updates(metrics: Metrics, handler: str, outcome: str) -> float | None:
    return metrics.registry.get_sample_value("csvbot_updates_total", {"handler": handler, "outcome": outcome})


async def test_a_refused_upload_is_answered_and_counted_as_rejected(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics, make_message: MakeMessage
) -> None:
    user = emulator.create_user()
    png = Document(
        file_id="f", file_unique_id="u", file_name="photo.png", mime_type="image/png", file_size=2048
    )
    dp = build_dispatcher(services(metrics))
    await dp.feed_update(bot, Update(update_id=1, message=make_message(user, document=png)))

    [reply] = emulator.bot_messages(user.chat_id)
    assert reply.text is not None and reply.text.startswith("photo.png doesn't look like a CSV")
    assert updates(metrics, "upload", "rejected") == 1
    assert updates(metrics, "upload", "failed") == 0
    assert (
        metrics.registry.get_sample_value("csvbot_errors_total", {"component": "bot", "kind": "not_csv"}) == 1
    )


async def test_a_crashing_handler_is_answered_generically_and_counted_as_failed(
    emulator: TelegramEmulator, bot: Bot, metrics: Metrics, make_message: MakeMessage
) -> None:
    user = emulator.create_user()
    dp = build_dispatcher(services(metrics, RepoThatFails()))
    await dp.feed_update(bot, Update(update_id=1, message=make_message(user, text="/start")))

    [reply] = emulator.bot_messages(user.chat_id)
    assert reply.text == CsvbotError.user_message
    assert updates(metrics, "start", "failed") == 1
    assert (
        metrics.registry.get_sample_value("csvbot_errors_total", {"component": "bot", "kind": "internal"})
        == 1
    )


async def test_two_dispatchers_can_be_built_in_one_process(metrics: Metrics) -> None:
    """Routers are built per dispatcher (the simulator's capacity search builds one per step)."""
    first, second = build_dispatcher(services(metrics)), build_dispatcher(services(metrics))
    assert [r.name for r in first.sub_routers] == [r.name for r in second.sub_routers]
    assert not set(map(id, first.sub_routers)) & set(map(id, second.sub_routers))
