"""Bounded per-chat data: transcript trimming, file spill to disk, waiting on a chat."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from emulators.telegram import ChatEvent, EmulatorLimits, TelegramEmulator
from emulators.telegram.files import FileStore


def _listing(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


async def test_files_spill_to_disk_past_the_memory_budget(tmp_path: Path) -> None:
    """Files fit in memory until the budget; later ones go to a temp dir removed by close()."""
    store = FileStore(memory_budget_bytes=100, spill_dir=tmp_path)
    in_memory = await store.put(b"a" * 60, file_name="a.csv", mime_type=None)
    spilled = await store.put(b"b" * 60, file_name="b.csv", mime_type=None)
    spill_dirs = _listing(tmp_path)

    assert (store.memory_bytes, store.disk_bytes) == (60, 60)
    assert await store.read(in_memory.file_id) == b"a" * 60
    assert await store.read(spilled.file_id) == b"b" * 60
    assert store.get_by_path(spilled.file_path) == spilled
    assert len(spill_dirs) == 1 and _listing(spill_dirs[0])

    store.close()
    assert _listing(tmp_path) == []


async def test_a_spill_directory_that_does_not_exist_yet_is_created(tmp_path: Path) -> None:
    store = FileStore(memory_budget_bytes=0, spill_dir=tmp_path / "not" / "yet")
    spilled = await store.put(b"c" * 10, file_name="c.csv", mime_type=None)

    assert await store.read(spilled.file_id) == b"c" * 10
    assert len(_listing(tmp_path / "not" / "yet")) == 1
    store.close()


async def test_mime_type_comes_from_the_file_name() -> None:
    store = FileStore(memory_budget_bytes=1000)
    csv = await store.put(b"x", file_name="report.CSV", mime_type="application/octet-stream")
    unknown = await store.put(b"x", file_name="blob", mime_type="application/x-custom")

    assert (csv.mime_type, unknown.mime_type) == ("text/csv", "application/x-custom")
    assert csv.file_id != unknown.file_id and csv.file_unique_id != unknown.file_unique_id


async def test_transcript_keeps_only_the_newest_entries() -> None:
    """A chat holds at most max_transcript_entries; ids and seq keep counting past the trim."""
    emulator = TelegramEmulator(limits=EmulatorLimits(max_transcript_entries=3))
    user = emulator.create_user()
    for number in range(5):
        emulator.send_text(user.id, f"m{number}")

    entries = emulator.transcript(user.chat_id)
    assert [e.text for e in entries] == ["m2", "m3", "m4"]
    assert [e.message_id for e in entries] == [3, 4, 5]
    assert emulator.snapshot()["transcript_entries_trimmed"] == 2


async def test_wait_for_message_sees_later_edits_and_times_out_clearly() -> None:
    """wait_for_message matches an edit made after it started, and names the chat on timeout."""
    emulator = TelegramEmulator()
    user = emulator.create_user()
    chat = emulator.state.chat(user.chat_id)
    progress = chat.append("bot", text="Processing…")

    waiter = asyncio.create_task(
        emulator.wait_for_message(user.chat_id, lambda e: e.content.startswith("Done"), timeout=5)
    )
    await asyncio.sleep(0)
    chat.edit(progress, text="Done", entities=[], reply_markup=None)
    matched = await waiter

    assert matched is progress and matched.edit_history == ["Processing…"]
    with pytest.raises(TimeoutError, match=f"chat {user.chat_id}"):
        await emulator.wait_for_message(user.chat_id, lambda e: False, timeout=0.05)


async def test_listeners_see_every_change() -> None:
    emulator = TelegramEmulator()
    events: list[ChatEvent] = []
    emulator.add_listener(events.append)
    user = emulator.create_user()
    entry = emulator.send_text(user.id, "hello")
    emulator.state.chat(user.chat_id).delete(entry)
    emulator.remove_listener(events.append)
    emulator.send_text(user.id, "unseen")

    assert [(event.kind, event.entry.text) for event in events] == [
        ("new", "hello"),
        ("deleted", "hello"),
    ]


def test_users_get_distinct_ids_and_unique_usernames() -> None:
    emulator = TelegramEmulator()
    first = emulator.create_user(username="ann")
    second = emulator.create_user()

    assert first.id != second.id and first.chat_id == first.id
    with pytest.raises(ValueError, match="taken"):
        emulator.create_user(username="@ANN")
    with pytest.raises(LookupError):
        emulator.send_text(999, "who am I")


async def test_a_failing_predicate_reaches_its_waiter_not_the_bot() -> None:
    """A predicate that raises fails wait_for_message; the message itself is still recorded."""
    emulator = TelegramEmulator()
    user = emulator.create_user()
    chat = emulator.state.chat(user.chat_id)
    waiter = asyncio.create_task(
        emulator.wait_for_message(user.chat_id, lambda e: (e.text or "")[100] == "x", timeout=5)
    )
    await asyncio.sleep(0)
    entry = chat.append("bot", text="short")

    with pytest.raises(IndexError):
        await waiter
    assert emulator.transcript(user.chat_id) == [entry]


async def test_emulator_can_be_restarted() -> None:
    """stop() then start() serves again, on a fresh port, with long polls working."""
    emulator = TelegramEmulator()
    async with emulator:
        pass
    async with emulator, httpx.AsyncClient() as client:
        user = emulator.create_user()
        emulator.send_text(user.id, "again")
        answer = await client.post(f"{emulator.url}/bot{emulator.token}/getUpdates", json={"timeout": 5})

    assert [u["message"]["text"] for u in answer.json()["result"]] == ["again"]
