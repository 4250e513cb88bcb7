"""getUpdates long-polling semantics and the raw Bot API wire shape, spoken over plain HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from emulators.telegram import EmulatorLimits, TelegramEmulator


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        yield emulator


@pytest.fixture
async def client(emulator: TelegramEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{emulator.url}/bot{emulator.token}") as client:
        yield client


async def _call(client: httpx.AsyncClient, method: str, **params: Any) -> Any:
    response = await client.post(f"/{method}", json=params)
    body = response.json()
    assert response.status_code == 200, body
    return body["result"]


async def test_offset_confirms_updates_and_unconfirmed_ones_repeat(
    emulator: TelegramEmulator, client: httpx.AsyncClient
) -> None:
    """Updates stay pending until an offset above their id confirms them."""
    user = emulator.create_user()
    for text in ("one", "two", "three"):
        emulator.send_text(user.id, text)

    first = await _call(client, "getUpdates")
    repeated = await _call(client, "getUpdates")
    after_confirm = await _call(client, "getUpdates", offset=first[1]["update_id"] + 1)

    assert [u["message"]["text"] for u in first] == ["one", "two", "three"]
    assert repeated == first
    assert [u["message"]["text"] for u in after_confirm] == ["three"]
    assert [u["update_id"] for u in first] == sorted(u["update_id"] for u in first)


async def test_limit_and_negative_offset(emulator: TelegramEmulator, client: httpx.AsyncClient) -> None:
    """limit caps a batch; a negative offset keeps only the newest -offset updates."""
    user = emulator.create_user()
    for number in range(5):
        emulator.send_text(user.id, str(number))

    limited = await _call(client, "getUpdates", limit=2)
    newest = await _call(client, "getUpdates", offset=-2)
    remaining = await _call(client, "getUpdates")

    assert [u["message"]["text"] for u in limited] == ["0", "1"]
    assert [u["message"]["text"] for u in newest] == ["3", "4"]
    assert remaining == newest


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emulator: TelegramEmulator, client: httpx.AsyncClient
) -> None:
    """With timeout, getUpdates waits for the next update instead of answering empty."""
    user = emulator.create_user()
    poll = asyncio.create_task(_call(client, "getUpdates", timeout=30))
    await asyncio.sleep(0.1)
    assert not poll.done()

    started = time.monotonic()
    emulator.send_text(user.id, "wake up")
    updates = await asyncio.wait_for(poll, 5)

    assert [u["message"]["text"] for u in updates] == ["wake up"]
    assert time.monotonic() - started < 5


async def test_long_poll_times_out_empty(client: httpx.AsyncClient) -> None:
    """With nothing to deliver, a long poll answers [] once its timeout passes."""
    assert await _call(client, "getUpdates", timeout=1) == []


async def test_second_poll_terminates_the_first_with_409(
    emulator: TelegramEmulator, client: httpx.AsyncClient
) -> None:
    """Two concurrent pollers: the older one gets Telegram's 409 Conflict."""
    first = asyncio.create_task(client.post("/getUpdates", json={"timeout": 30}))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(client.post("/getUpdates", json={"timeout": 1}))
    answer = await asyncio.wait_for(first, 5)

    assert answer.status_code == 409
    assert answer.json()["description"].startswith("Conflict: terminated by other getUpdates")
    assert (await second).json() == {"ok": True, "result": []}


async def test_allowed_updates_filters_and_persists(
    emulator: TelegramEmulator, client: httpx.AsyncClient
) -> None:
    """allowed_updates drops other update types, and the setting applies to later calls."""
    user = emulator.create_user()
    sent = await _call(client, "sendMessage", chat_id=user.chat_id, text="pick")
    emulator.send_text(user.id, "text")
    emulator.press_button(user.id, sent["message_id"], "b:1")

    only_callbacks = await _call(client, "getUpdates", allowed_updates=["callback_query"])
    emulator.send_text(user.id, "ignored too")
    later = await _call(client, "getUpdates")

    assert [list(u)[1] for u in only_callbacks] == ["callback_query"]
    assert only_callbacks[0]["callback_query"]["data"] == "b:1"
    assert later == only_callbacks


async def test_pending_updates_are_capped() -> None:
    """Past max_pending_updates the oldest updates are dropped and counted."""
    async with TelegramEmulator(limits=EmulatorLimits(max_pending_updates=3)) as small:
        user = small.create_user()
        for number in range(5):
            small.send_text(user.id, str(number))
        async with httpx.AsyncClient(base_url=f"{small.url}/bot{small.token}") as small_client:
            updates = await _call(small_client, "getUpdates")

        assert [u["message"]["text"] for u in updates] == ["2", "3", "4"]
        assert small.snapshot()["updates_dropped"] == 2


async def test_form_encoded_and_query_parameters_are_accepted(
    emulator: TelegramEmulator, client: httpx.AsyncClient
) -> None:
    """Like Telegram, parameters may come urlencoded or in the query string of a GET."""
    user = emulator.create_user()
    posted = await client.post("/sendMessage", data={"chat_id": str(user.chat_id), "text": "a"})
    fetched = await client.get("/sendMessage", params={"chat_id": user.chat_id, "text": "b"})

    assert posted.json()["result"]["text"] == "a"
    assert fetched.json()["result"]["text"] == "b"
    assert [entry.text for entry in emulator.transcript(user.chat_id)] == ["a", "b"]


async def test_error_shapes_match_telegram(emulator: TelegramEmulator, client: httpx.AsyncClient) -> None:
    """Unknown method, wrong token, unknown path and 429 answer Telegram's exact JSON."""
    emulator.inject_rate_limit("getMe", retry_after=3, count=1)
    async with httpx.AsyncClient(base_url=emulator.url) as raw:
        unknown = await client.post("/sendTelepathy")
        wrong_token = await raw.post("/bot1:wrong/getMe")
        nowhere = await raw.get("/nowhere")
    limited = await client.post("/getMe")

    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert (wrong_token.status_code, wrong_token.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert nowhere.status_code == 404 and nowhere.json()["ok"] is False
    assert (limited.status_code, limited.json()) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )
    assert emulator.stats.calls("unknown", 404) == 1
    assert emulator.stats.calls("getMe", 401) == 1


async def test_method_names_are_case_insensitive(client: httpx.AsyncClient) -> None:
    """Telegram matches method names ignoring case; so does the emulator."""
    assert (await _call(client, "GETME"))["is_bot"] is True


async def test_stop_releases_a_waiting_long_poll() -> None:
    """Stopping the emulator answers a pending long poll with [] instead of leaving it hanging."""
    emulator = TelegramEmulator()
    await emulator.start()
    async with httpx.AsyncClient(base_url=f"{emulator.url}/bot{emulator.token}") as client:
        poll = asyncio.create_task(client.post("/getUpdates", json={"timeout": 50}))
        deadline = asyncio.get_running_loop().time() + 30  # generous: a loaded machine
        while not emulator.state.updates.poll_waiting:
            assert asyncio.get_running_loop().time() < deadline, "the long poll never arrived"
            await asyncio.sleep(0.01)
        await emulator.stop()
        answer = await asyncio.wait_for(poll, 5)

    assert answer.json() == {"ok": True, "result": []}
