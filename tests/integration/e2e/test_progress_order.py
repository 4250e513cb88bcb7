"""The progress message only moves forward: a delayed "Queued as job …" edit can never land after
the worker's final edit and hide the result or the rejection reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emulators.telegram import TelegramEmulator
from tests.integration.e2e.embedded import embedded_bot
from tests.integration.e2e.transcript import is_cleaned_result

pytestmark = pytest.mark.integration

UPLOAD = b"id,name\n1,alpha\n2,beta\n"
#: Longer than the in-process worker needs for a three-line file, so an edit sent after the
#: enqueue would arrive after the worker's "done".
EDIT_DELAY_SECONDS = 2.0


@pytest.mark.parametrize("fault", ["latency", "rate_limit"])
async def test_a_delayed_queued_edit_does_not_overwrite_the_final_state(tmp_path: Path, fault: str) -> None:
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path):
        user = emulator.create_user("olga")
        # The first edit of the upload is the bot's "Queued as job …": delay it (or 429 it once,
        # which aiogram's session answers by waiting retry_after and sending it again).
        if fault == "latency":
            emulator.inject_latency(["editMessageText"], seconds=EDIT_DELAY_SECONDS, count=1)
        else:
            emulator.inject_rate_limit(["editMessageText"], retry_after=2, count=1)
        await emulator.send_document(user.id, UPLOAD, "small.csv", mime_type="text/csv")
        await emulator.wait_for_message(user.id, is_cleaned_result, timeout=30)
        # Give a late edit every chance to land before looking at the progress message.
        await asyncio.sleep(EDIT_DELAY_SECONDS + 1.5)
        [progress] = [e for e in emulator.bot_messages(user.id) if e.content.startswith("Got ") or e.edits]
        assert "done" in progress.content, [progress.content, *progress.edits]
