"""A user's upload through separate bot and worker processes: the cleaned file, the job row, one
trace across both processes, and log lines that carry that trace's id."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emulators.telegram import TranscriptEntry
from tests.integration.e2e.conftest import Stack
from tests.integration.e2e.otlp import ReceivedSpan
from tests.integration.e2e.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

#: A Russian Excel export: Windows-1251, semicolons, padded cells, a duplicate row, a formula.
UPLOAD = (
    " name ; city ;amount;note\r\n"
    "Alice;Paris;10;=1+2\r\n"
    "Bob ; Berlin ;-5;ok\r\n"
    "Alice;Paris;10;=1+2\r\n"
    "Женя;Москва;7,5;\r\n"
).encode("cp1251")
#: UTF-8 with a BOM, commas, trimmed, the duplicate gone, the formula neutralised with a quote.
EXPECTED_CLEANED = (
    "\ufeff"
    + "".join(
        line + "\r\n"
        for line in [
            "name,city,amount,note",
            "Alice,Paris,10,'=1+2",
            "Bob,Berlin,-5,ok",
            'Женя,Москва,"7,5",',
        ]
    )
).encode()

JOB_CAPTION = re.compile(r"^Job ([0-9a-f]{12})\b")

#: (process, span) pairs the job's trace must contain: the whole path from update to reply.
REQUIRED_SPANS = {
    ("csvbot-bot", "bot.update"),
    ("csvbot-bot", "db.upsert_user"),
    ("csvbot-bot", "storage.upload_file"),
    ("csvbot-bot", "db.create_job"),
    ("csvbot-bot", "telegram.editMessageText"),
    ("csvbot-worker", "worker.process_job"),
    ("csvbot-worker", "db.claim_job"),
    ("csvbot-worker", "storage.download"),
    ("csvbot-worker", "csv.process"),
    ("csvbot-worker", "storage.upload_file"),
    ("csvbot-worker", "db.finish_job"),
    ("csvbot-worker", "telegram.sendDocument"),
}


def is_cleaned_result(entry: TranscriptEntry) -> bool:
    return entry.document is not None and entry.document.file_name.endswith(".cleaned.csv")


def _complete(spans: list[ReceivedSpan]) -> bool:
    """Every required span arrived and every parent is in the trace (nothing still in flight)."""
    ids = {span.span_id for span in spans}
    present = {(span.service, span.name) for span in spans}
    parents_known = all(not span.parent_span_id or span.parent_span_id in ids for span in spans)
    return present >= REQUIRED_SPANS and parents_known


async def _job_trace(stack: Stack, job_id: str) -> list[ReceivedSpan]:
    """The trace of ``job_id``, once both processes have exported all of its spans."""

    def complete_trace() -> list[ReceivedSpan] | None:
        for span in stack.otlp.spans:
            if span.name == "worker.process_job" and span.attributes.get("csvbot.job_id") == job_id:
                spans = stack.otlp.trace(span.trace_id)
                return spans if _complete(spans) else None
        return None

    return await eventually(complete_trace, within=20, what=f"the spans of job {job_id}")


async def _log_lines_for(stack: Stack, job_id: str) -> dict[str, list[dict[str, Any]]]:
    """Both processes' JSON log lines naming the job, once the worker's end-of-job line is in."""
    await eventually(
        lambda: any(line.get("event") == "job_end" for line in stack.log_lines(job_id)["worker"]),
        within=10,
        what=f"the end-of-job log line of {job_id}",
    )
    return stack.log_lines(job_id)


async def test_upload_returns_the_cleaned_file_and_the_job_ends_done(stack: Stack) -> None:
    """The user gets the cleaned CSV with exactly the expected bytes; the job row is ``done``."""
    user = stack.emulator.create_user("Alice")
    await stack.emulator.send_document(user.id, UPLOAD, "sales.csv", mime_type="text/csv")

    result = await stack.emulator.wait_for_message(user.id, is_cleaned_result, timeout=60)
    assert result.document is not None
    assert await stack.emulator.read_file(result.document.file_id) == EXPECTED_CLEANED
    match = JOB_CAPTION.match(result.content)
    assert match, result.content
    job_id = match.group(1)
    assert "1 duplicate row removed" in result.content

    job = await stack.job_row(job_id)
    assert job["status"] == "done"
    assert job["error_kind"] is None
    assert job["attempts"] == 1


async def test_every_span_and_log_line_of_a_job_shares_one_trace_id(stack: Stack) -> None:
    """bot.update → storage → db → worker.process_job → storage → csv → telegram: one trace,
    spanning both processes; both processes' log lines for the job carry that trace id."""
    user = stack.emulator.create_user("Boris")
    await stack.emulator.send_document(user.id, UPLOAD, "sales.csv", mime_type="text/csv")
    result = await stack.emulator.wait_for_message(user.id, is_cleaned_result, timeout=60)
    match = JOB_CAPTION.match(result.content)
    assert match, result.content
    job_id = match.group(1)

    spans = await _job_trace(stack, job_id)
    trace_id = spans[0].trace_id
    roots = [span for span in spans if not span.parent_span_id]
    assert [(root.service, root.name) for root in roots] == [("csvbot-bot", "bot.update")]
    # The queue and the download of the user's file are in the trace too: the enqueue as a
    # producer span, the task as its consumer span, the file transfer beside getFile.
    by_name = {span.name: span for span in spans}
    assert {"send csvbot.process_job", "process csvbot.process_job", "telegram.download_file"} <= set(by_name)
    worker = by_name["worker.process_job"]
    assert worker.parent_span_id == by_name["process csvbot.process_job"].span_id
    assert by_name["process csvbot.process_job"].parent_span_id == by_name["send csvbot.process_job"].span_id
    # Nothing that belongs to this job was recorded in any other trace.
    belongs_to_job = [
        span
        for span in stack.otlp.spans
        if span.attributes.get("csvbot.job_id") == job_id or job_id in str(span.attributes.get("storage.key"))
    ]
    assert {span.trace_id for span in belongs_to_job} == {trace_id}
    assert {span.name for span in belongs_to_job} >= {"worker.process_job", "storage.download"}
    # The job row carries the same context, for the reaper's re-queues.
    job = await stack.job_row(job_id)
    assert job["trace_context"]["traceparent"].split("-")[1] == trace_id

    lines = await _log_lines_for(stack, job_id)
    assert any(line.get("event") == "upload_accepted" for line in lines["bot"])
    assert any(line.get("event") == "job_end" and line["outcome"] == "ok" for line in lines["worker"])
    for process, process_lines in lines.items():
        assert process_lines, f"{process} logged nothing for job {job_id}"
        assert {line.get("trace_id") for line in process_lines} == {trace_id}, process


async def test_a_refused_upload_is_one_trace_with_its_reply(stack: Stack) -> None:
    """The refusal of a non-CSV file is answered inside the update's span: one trace, outcome
    ``rejected``, the reply a child of it."""
    user = stack.emulator.create_user("Vera")
    await stack.emulator.send_document(user.id, b"\x89PNG\r\n\x1a\n", "photo.png", mime_type="image/png")
    await stack.emulator.wait_for_message(user.id, lambda e: "doesn't look like a CSV" in e.content)

    def refused_update() -> list[ReceivedSpan] | None:
        for span in stack.otlp.spans:
            if span.name == "bot.update" and span.attributes.get("telegram.user_id") == user.id:
                spans = stack.otlp.trace(span.trace_id)
                return spans if any(s.name == "telegram.sendMessage" for s in spans) else None
        return None

    spans = await eventually(refused_update, within=20, what="the refused update's trace")
    [root] = [span for span in spans if span.name == "bot.update"]
    assert root.attributes["csvbot.outcome"] == "rejected"
    assert root.attributes["csvbot.handler"] == "upload"
    [reply] = [span for span in spans if span.name == "telegram.sendMessage"]
    assert reply.parent_span_id == root.span_id
