"""Bad uploads against the whole service on its embedded defaults (SQLite, local storage,
in-process worker), with the real Telegram path through the emulator.

Each case must end with: a message to the user that names the problem; the job's status and
error kind in the database (where a job was created); a metric; a log line; no crash (the bot
still answers /start and the worker still processes a good file); and no temporary file left in
the temp folder or the storage folder.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from emulators.telegram import TelegramEmulator, TranscriptEntry
from service.app import BotApp
from service.config import Settings
from service.db import Job
from service.runtime import Telemetry
from service.storage.keys import cleaned_key, input_key, profile_key
from tests.integration.e2e import bad_inputs
from tests.integration.e2e.bad_inputs import CASES, BadInput

pytestmark = pytest.mark.integration

GOOD_CSV = b"name,score\nAda,3\nLin,5\n"


@dataclass
class EmbeddedService:
    app: BotApp
    emulator: TelegramEmulator
    telemetry: Telemetry
    settings: Settings
    temp_dir: Path

    def metric(self, name: str, labels: dict[str, str]) -> float:
        value = self.telemetry.metrics.registry.get_sample_value(name, labels)
        assert value is not None, f"no series {name}{labels}"
        return value

    def log_lines(self) -> list[dict[str, Any]]:
        assert self.telemetry.logging is not None and self.settings.log_file is not None
        self.telemetry.logging.flush()
        return [json.loads(line) for line in self.settings.log_file.read_text().splitlines()]

    async def jobs_of(self, user_id: int) -> list[Job]:
        assert self.app.repo is not None
        return await self.app.repo.list_jobs(user_id)

    async def job_end_line(self, job_id: str) -> dict[str, Any]:
        """The worker's canonical end-of-job line; it is logged after the job's clean-up."""
        async with asyncio.timeout(20):
            while True:
                for line in self.log_lines():
                    if line.get("event") == "job_end" and line.get("job_id") == job_id:
                        return line
                await asyncio.sleep(0.05)


@pytest.fixture
async def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EmbeddedService]:
    """``csvbot run`` in this process, with small limits, its temp folder under ``tmp_path``."""
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    # Every tempfile the service makes lands here, so "nothing left behind" is checkable without
    # seeing other processes' files in the machine's /tmp.
    monkeypatch.setattr(tempfile, "tempdir", str(temp_dir))
    # Settings also read the environment: a developer's exported REDIS_URL or DATABASE_URL must
    # not turn this run into something else than the embedded defaults.
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    emulator = TelegramEmulator(seed=3, spill_dir=tmp_path / "telegram")
    await emulator.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(emulator.token),
        telegram_api_url=emulator.url,
        sqlite_path=tmp_path / "csvbot.sqlite3",
        storage_dir=tmp_path / "storage",
        log_file=tmp_path / "csvbot.log",
        max_upload_bytes=bad_inputs.MAX_UPLOAD_BYTES,
        max_field_chars=bad_inputs.MAX_FIELD_CHARS,
        max_columns=bad_inputs.MAX_COLUMNS,
    )
    telemetry = Telemetry.start(settings, service="bot", serve_metrics=False, log_to_stderr=False)
    app = BotApp(settings, telemetry)
    serving: asyncio.Task[None] | None = None
    try:
        await app.start()
        serving = asyncio.create_task(app.serve())
        yield EmbeddedService(app, emulator, telemetry, settings, temp_dir)
    finally:
        if serving is not None:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
        await app.stop()
        await telemetry.stop()
        await emulator.stop()


def _is_final(case: BadInput, entry: TranscriptEntry) -> bool:
    """The message that ends the case: a refusal, a failed job's edit, or the cleaned file."""
    if case.job_status == "done":
        return entry.document is not None and entry.document.file_name.endswith(".cleaned.csv")
    return case.says in entry.content


def _all_keys(user_id: int, job_id: str) -> set[str]:
    return {input_key(user_id, job_id), cleaned_key(user_id, job_id), profile_key(user_id, job_id)}


def _storage_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_bad_upload_ends_with_a_clear_message_a_record_and_nothing_left_behind(
    service: EmbeddedService, case: BadInput
) -> None:
    emulator = service.emulator
    user = emulator.create_user("Sam")
    await emulator.send_document(user.id, case.make(), case.file_name, mime_type=case.mime_type)

    final = await emulator.wait_for_message(user.id, lambda e: _is_final(case, e), timeout=30)
    assert case.says in final.content

    jobs = await service.jobs_of(user.id)
    if case.stopped_by == "bot":
        assert jobs == [], "a file refused from its metadata must not become a job"
        assert emulator.stats.calls("getFile") == 0, "a refused file must not be downloaded"
        assert service.metric("csvbot_updates_total", {"handler": "upload", "outcome": "rejected"}) == 1
        assert service.metric("csvbot_errors_total", {"component": "bot", "kind": str(case.error_kind)}) == 1
        [refusal] = [line for line in service.log_lines() if line.get("event") == "update_failed"]
        assert case.error_kind in (refusal.get("error_kind"), refusal.get("extra_error_kind"))
        assert len(refusal.get("trace_id", "")) == 32, "the refusal is logged inside the update's trace"
    else:
        [job] = jobs
        assert job.status.value == case.job_status
        assert job.error_kind == case.error_kind
        end = await service.job_end_line(job.id)
        outcome = "ok" if case.job_status == "done" else "rejected"
        assert end["outcome"] == outcome
        assert case.error_kind in (end.get("error_kind"), end.get("extra_error_kind"))
        assert service.metric("csvbot_jobs_total", {"outcome": outcome}) == 1
        if case.error_kind is not None:
            assert (
                service.metric("csvbot_errors_total", {"component": "worker", "kind": case.error_kind}) == 1
            )
        # The upload itself was accepted: the bot's update is not what failed.
        assert service.metric("csvbot_updates_total", {"handler": "upload", "outcome": "ok"}) == 1

    # Nothing crashed: the bot still answers, and the worker still cleans a good file.
    emulator.send_text(user.id, "/start")
    await emulator.wait_for_message(user.id, lambda e: "Send me a CSV file" in e.content, timeout=10)
    await emulator.send_document(user.id, GOOD_CSV, "good.csv", mime_type="text/csv")
    await emulator.wait_for_message(
        user.id, lambda e: e.document is not None and e.document.file_name == "good.cleaned.csv", timeout=30
    )
    good_job = next(job for job in await service.jobs_of(user.id) if job.file_name == "good.csv")
    await service.job_end_line(good_job.id)

    # Nothing left behind: no temp folders, no temporary or partial objects, no outputs of a
    # refused file.
    assert [p.name for p in service.temp_dir.iterdir() if p.name.startswith("csvbot-")] == []
    storage = service.settings.storage_dir
    expected = _all_keys(user.id, good_job.id)
    for job in jobs:
        expected |= _all_keys(user.id, job.id) if case.job_status == "done" else {input_key(user.id, job.id)}
    assert _storage_files(storage) == sorted(expected)


async def test_formula_cells_reach_the_user_neutralised(service: EmbeddedService) -> None:
    """Every formula payload comes back prefixed with ' ; plain negative numbers stay numbers."""
    emulator = service.emulator
    user = emulator.create_user("Eve")
    await emulator.send_document(
        user.id, bad_inputs.formula_injection(), "formulas.csv", mime_type="text/csv"
    )
    result = await emulator.wait_for_message(
        user.id,
        lambda e: e.document is not None and e.document.file_name == "formulas.cleaned.csv",
        timeout=30,
    )
    assert result.document is not None
    text = (await emulator.read_file(result.document.file_id)).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == ["id", "payload", "amount"]
    assert [row[1] for row in rows] == ["'" + payload for payload in bad_inputs.FORMULA_PAYLOADS]
    assert {row[2] for row in rows} == {"-12.5"}
