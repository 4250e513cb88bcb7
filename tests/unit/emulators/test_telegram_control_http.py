"""The control API over HTTP (/_emulator/...), driven from an httpx client as another process would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from emulators.telegram import TelegramEmulator


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        yield emulator


@pytest.fixture
async def control(emulator: TelegramEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{emulator.url}/_emulator") as client:
        yield client


@pytest.fixture
async def bot_api(emulator: TelegramEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{emulator.url}/bot{emulator.token}") as client:
        yield client


async def test_users_send_text_and_documents_that_the_bot_receives(
    control: httpx.AsyncClient, bot_api: httpx.AsyncClient
) -> None:
    """Users created over HTTP send a command and a file; getUpdates delivers both."""
    created = await control.post("/users", json={"first_name": "Ann", "username": "ann"})
    user = created.json()
    command = await control.post(f"/users/{user['id']}/messages", json={"text": "/jobs"})
    upload = await control.post(
        f"/users/{user['id']}/documents",
        files={"document": ("data.csv", b"a;b\n1;2\n", "text/csv")},
        data={"caption": "mine"},
    )
    updates = (await bot_api.post("/getUpdates")).json()["result"]

    assert created.status_code == 201 and user["chat_id"] == user["id"]
    assert command.json()["entities"] == [{"type": "bot_command", "offset": 0, "length": 5}]
    assert upload.json()["document"]["file_name"] == "data.csv"
    assert updates[0]["message"]["text"] == "/jobs"
    assert updates[1]["message"]["document"]["file_id"] == upload.json()["document"]["file_id"]
    assert updates[1]["message"]["caption"] == "mine"
    assert (await control.get("/users")).json() == [user]


async def test_transcript_and_files_of_bot_replies(
    emulator: TelegramEmulator, control: httpx.AsyncClient, bot_api: httpx.AsyncClient
) -> None:
    """The transcript shows both sides with edits; a document the bot sent downloads intact."""
    user = emulator.create_user()
    emulator.send_text(user.id, "/start")
    sent = (await bot_api.post("/sendMessage", json={"chat_id": user.id, "text": "v1"})).json()
    await bot_api.post(
        "/editMessageText",
        json={"chat_id": user.id, "message_id": sent["result"]["message_id"], "text": "v2"},
    )
    await bot_api.post(
        "/sendDocument",
        data={"chat_id": str(user.id)},
        files={"document": ("out.csv", b"x,y\n", "application/octet-stream")},
    )

    transcript = (await control.get(f"/chats/{user.id}/transcript")).json()
    entries = transcript["entries"]
    document = entries[2]["document"]
    downloaded = await control.get(f"/files/{document['file_id']}")

    assert [(e["sender"], e["text"]) for e in entries] == [
        ("user", "/start"),
        ("bot", "v2"),
        ("bot", None),
    ]
    assert [h["text"] for h in entries[1]["edit_history"]] == ["v1"]
    assert document["mime_type"] == "text/csv"
    assert downloaded.content == b"x,y\n"
    assert downloaded.headers["content-type"].startswith("text/csv")


async def test_transcript_long_poll_returns_changes_after_a_revision(
    emulator: TelegramEmulator, control: httpx.AsyncClient, bot_api: httpx.AsyncClient
) -> None:
    """?since=R&timeout=S waits for the next change and returns only entries changed after R."""
    user = emulator.create_user()
    emulator.send_text(user.id, "hi")
    revision = (await control.get(f"/chats/{user.id}/transcript")).json()["revision"]

    waiting = asyncio.create_task(
        control.get(f"/chats/{user.id}/transcript", params={"since": revision, "timeout": 10})
    )
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await bot_api.post("/sendMessage", json={"chat_id": user.id, "text": "hello"})
    changed = (await asyncio.wait_for(waiting, 5)).json()

    assert [e["text"] for e in changed["entries"]] == ["hello"]
    assert changed["revision"] > revision


async def test_faults_over_http_apply_to_chosen_methods(
    emulator: TelegramEmulator, control: httpx.AsyncClient, bot_api: httpx.AsyncClient
) -> None:
    """A rule added over HTTP hits only its methods for its count; the stats show the outcome."""
    user = emulator.create_user()
    added = await control.post(
        "/faults",
        json={"kind": "server_error", "methods": ["sendMessage"], "status": 502, "count": 2},
    )
    statuses = [
        (await bot_api.post("/sendMessage", json={"chat_id": user.id, "text": "x"})).status_code
        for _ in range(3)
    ]
    me = await bot_api.post("/getMe")
    stats = (await control.get("/stats")).json()

    assert added.status_code == 201 and added.json()["kind"] == "server_error"
    assert statuses == [502, 502, 200]
    assert me.status_code == 200
    assert stats["calls"]["by_method_status"]["sendMessage"] == {"200": 1, "502": 2}
    assert (await control.get("/faults")).json() == []  # used up


async def test_fault_rules_can_be_listed_removed_and_rejected(control: httpx.AsyncClient) -> None:
    """Rules are listed with ids, removable one by one or all at once; bad rules are a 400."""
    first = (await control.post("/faults", json={"kind": "latency", "latency_seconds": 0.5})).json()
    await control.post("/faults", json={"kind": "rate_limit", "retry_after": 2})
    removed = await control.delete(f"/faults/{first['id']}")
    remaining = (await control.get("/faults")).json()
    bad_kind = await control.post("/faults", json={"kind": "meteor"})
    bad_status = await control.post("/faults", json={"kind": "server_error", "status": 404})
    cleared = await control.delete("/faults")

    assert removed.status_code == 200
    assert [rule["kind"] for rule in remaining] == ["rate_limit"]
    assert (bad_kind.status_code, bad_status.status_code) == (400, 400)
    assert cleared.status_code == 200 and (await control.get("/faults")).json() == []


async def test_control_errors_are_json(control: httpx.AsyncClient) -> None:
    """Unknown users, chats and files answer 404 with a JSON error, not a stack trace."""
    missing_user = await control.post("/users/5/messages", json={"text": "x"})
    missing_chat = await control.get("/chats/5/transcript")
    missing_file = await control.get("/files/nope")
    defaults_only = await control.post("/users", json={})

    assert (missing_user.status_code, missing_user.json()["ok"]) == (404, False)
    assert missing_chat.status_code == 404
    assert missing_file.status_code == 404
    assert defaults_only.status_code == 201  # a user needs no fields; defaults are generated
