"""A job's working files are removed when it ends, off the event loop that answers users."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emulators.telegram import TelegramEmulator
from service.workers import runner
from tests.integration.e2e.embedded import embedded_bot
from tests.integration.e2e.loop_gaps import loop_gaps
from tests.integration.e2e.transcript import is_cleaned_result

pytestmark = pytest.mark.integration

UPLOAD = b"id,name\n1,alpha\n2,beta\n"


async def test_removing_a_finished_jobs_files_does_not_hold_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 20 MB upload leaves its input and its cleaned copy in the job's directory: unlinking them
    on the loop held it ~8 ms, far more on a busy disk. Here the removal takes 0.6 s."""
    removed: list[Path] = []
    finished = threading.Event()

    def slow_rmtree(path: Any, ignore_errors: bool = False) -> None:
        time.sleep(0.6)
        shutil.rmtree(path, ignore_errors=ignore_errors)
        removed.append(Path(path))
        finished.set()

    monkeypatch.setattr(runner, "shutil", SimpleNamespace(rmtree=slow_rmtree))
    async with TelegramEmulator() as emulator, embedded_bot(emulator, tmp_path):
        user = emulator.create_user("kim")
        async with loop_gaps() as gaps:
            await emulator.send_document(user.id, UPLOAD, "slow-disk.csv", mime_type="text/csv")
            await emulator.wait_for_message(user.id, is_cleaned_result, timeout=30)
            assert await asyncio.to_thread(finished.wait, 30), "the job's directory was never removed"
    assert len(removed) == 1 and not removed[0].exists()
    assert max(gaps) < 0.5, f"the loop stood still for {max(gaps):.2f} s"
