"""csvbot's logging path end to end: JSON lines, exceptions, span ids, threads, bounds, flushing."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import io
import json
import logging
import threading
import time
import traceback
import weakref
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from telemetry.logging import capture as capture_module
from telemetry.logging import stack as stack_module
from telemetry.logging.capture import LIVE_TRACEBACK_LIMIT, QueueingHandler
from telemetry.logging.format import JsonLineFormatter
from telemetry.logging.redaction import Redactor
from telemetry.metrics import Metrics

from .logging_support import GatedStream, SlowStream, StartLogging, lines_of

log = logging.getLogger("csvbot.test.logging")


def test_records_are_json_lines_with_the_standard_fields_and_flat_extras(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    stream = io.StringIO()
    runtime = start_logging(stream=stream)
    log.info("job %s finished with %d rows", "j-1", 12, extra={"job_id": "j-1", "rows": 12})
    (line,) = lines_of(runtime, tmp_path / "csvbot.log")
    assert line["message"] == "job j-1 finished with 12 rows"  # not "INFO:csvbot...:job ..."
    assert (line["level"], line["logger"], line["service"]) == ("INFO", log.name, "csvbot-test")
    assert (line["job_id"], line["rows"]) == ("j-1", 12)
    stamp = dt.datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 60
    assert "trace_id" not in line, "no span was active"
    assert json.loads(stream.getvalue()) == line, "stderr gets the same line as the file"


class StorageDown(Exception):
    kind = "storage_unavailable"


def _upload() -> None:
    try:
        raise TimeoutError("read timed out")
    except TimeoutError as cause:
        raise StorageDown("upload of result.csv failed") from cause


def test_the_json_keeps_the_exception_type_message_kind_and_stack(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    runtime = start_logging()
    try:
        _upload()
    except StorageDown:
        log.exception("job failed", extra={"job_id": "j-2"})
    (line,) = lines_of(runtime, tmp_path / "csvbot.log")
    assert line["exc_type"] == f"{__name__}.StorageDown"
    assert line["exc_message"] == "upload of result.csv failed"
    assert line["error_kind"] == "storage_unavailable"
    stack = line["stack"]
    assert stack.startswith("Traceback (most recent call last):")
    assert "in _upload" in stack and 'raise StorageDown("upload of result.csv failed")' in stack
    assert "TimeoutError: read timed out" in stack, "the chained cause is kept"
    assert line["message"] == "job failed" and line["job_id"] == "j-2"


def test_an_exception_passed_as_exc_info_is_kept_too(start_logging: StartLogging, tmp_path: Path) -> None:
    runtime = start_logging()
    error = ValueError("bad delimiter")
    log.warning("could not parse", exc_info=error)
    (line,) = lines_of(runtime, tmp_path / "csvbot.log")
    assert (line["exc_type"], line["exc_message"]) == ("ValueError", "bad delimiter")


class Payload:
    """A failing frame's local, like a CSV buffer in a failing job."""


def _fail_with_a_local(refs: list[weakref.ref[Payload]]) -> None:
    payload = Payload()
    refs.append(weakref.ref(payload))
    raise RuntimeError("boom")


def test_a_logged_exception_frees_its_frames_once_its_line_is_written(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    runtime = start_logging()
    refs: list[weakref.ref[Payload]] = []
    try:
        _fail_with_a_local(refs)
    except RuntimeError:
        log.exception("failed")
    (line,) = lines_of(runtime, tmp_path / "csvbot.log")
    assert "in _fail_with_a_local" in line["stack"]
    gc.collect()
    assert refs[0]() is None, "the written record still pins the failed frame's locals"


def test_behind_a_stuck_writer_a_logged_exception_pins_no_frames(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    """Past LIVE_TRACEBACK_LIMIT queued records the stack is frozen on the caller, frames let go."""
    stream = GatedStream()
    runtime = start_logging(stream=stream, queue_size=LIVE_TRACEBACK_LIMIT + 10)
    log.info("hold the writer")
    assert stream.entered.wait(5)
    for i in range(LIVE_TRACEBACK_LIMIT):
        log.info("queued %d", i)
    refs: list[weakref.ref[Payload]] = []
    try:
        _fail_with_a_local(refs)
    except RuntimeError:
        log.exception("failed")
    gc.collect()
    assert refs[0]() is None, "the queued record pins the failed frame's locals"
    stream.gate.set()
    line = lines_of(runtime, tmp_path / "csvbot.log")[-1]
    assert (line["exc_type"], line["exc_message"]) == ("RuntimeError", "boom")
    assert "in _fail_with_a_local" in line["stack"] and 'raise RuntimeError("boom")' in line["stack"]


class Reading(Exception):
    """An exception whose text reads state that the caller goes on changing."""

    def __init__(self, progress: list[int]) -> None:
        super().__init__()
        self.progress = progress

    def __str__(self) -> str:
        return f"failed at row {self.progress[0]}"


def test_the_exception_message_is_the_one_at_the_call(start_logging: StartLogging, tmp_path: Path) -> None:
    stream = GatedStream()
    runtime = start_logging(stream=stream)
    log.info("hold the writer")
    assert stream.entered.wait(5)
    progress = [7]
    try:
        raise Reading(progress)
    except Reading:
        log.exception("import failed")
    progress[0] = 99
    stream.gate.set()
    line = lines_of(runtime, tmp_path / "csvbot.log")[1]
    assert line["exc_message"] == "failed at row 7"
    assert line["stack"].endswith(": failed at row 7")


def _log_then_reraise() -> None:
    try:
        raise KeyError("k")
    except KeyError:
        log.exception("inner")
        raise


def _outer_caller() -> None:
    _log_then_reraise()


def test_the_stack_is_the_one_at_the_call_when_the_exception_travels_on(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    stream = GatedStream()
    runtime = start_logging(stream=stream)
    log.info("hold the writer")
    assert stream.entered.wait(5)
    with pytest.raises(KeyError):
        _outer_caller()  # the re-raise puts _outer_caller's frame in front of the traceback
    stream.gate.set()
    stack = lines_of(runtime, tmp_path / "csvbot.log")[1]["stack"]
    assert "in _log_then_reraise" in stack
    assert "in _outer_caller" not in stack


def test_the_stack_is_built_on_the_writer_thread(
    start_logging: StartLogging, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Neither the standard traceback module nor csvbot's stack code runs on the caller."""
    threads: set[int] = set()
    standard, freeze = traceback.TracebackException.__init__, stack_module.freeze

    def spying_standard(self: traceback.TracebackException, *args: Any, **kwargs: Any) -> None:
        threads.add(threading.get_ident())
        standard(self, *args, **kwargs)

    def spying_freeze(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.get_ident())
        return freeze(*args, **kwargs)

    monkeypatch.setattr(traceback.TracebackException, "__init__", spying_standard)
    monkeypatch.setattr(capture_module, "freeze", spying_freeze)
    runtime = start_logging()
    try:
        _upload()
    except StorageDown:
        log.exception("job failed")
    (line,) = lines_of(runtime, tmp_path / "csvbot.log")
    assert "TimeoutError: read timed out" in line["stack"]
    assert threads == {runtime.writer._thread.ident}


def test_records_carry_the_ids_of_the_span_active_where_they_were_logged(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # local: the global provider is left alone
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    runtime = start_logging()

    async def job(name: str) -> None:
        with tracer.start_as_current_span(name):
            await asyncio.sleep(0.01)  # interleave the two tasks
            log.info("inside", extra={"job": name})

    async def both() -> None:
        await asyncio.gather(job("a"), job("b"))

    asyncio.run(both())
    log.info("outside")
    lines = [line for line in lines_of(runtime, tmp_path / "csvbot.log") if line["logger"] == log.name]
    spans = {s.name: s.context for s in exporter.get_finished_spans()}
    for line in lines[:2]:
        span = spans[line["job"]]
        assert line["trace_id"] == format(span.trace_id, "032x")
        assert line["span_id"] == format(span.span_id, "016x")
    assert "trace_id" not in lines[2] and "span_id" not in lines[2]


def test_no_formatting_or_redaction_happens_on_the_callers_thread(
    start_logging: StartLogging, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    working_threads: set[int] = set()
    format_entry, redact = JsonLineFormatter.format_entry, Redactor.redact

    def spying_format(self: JsonLineFormatter, entry: Any) -> str:
        working_threads.add(threading.get_ident())
        return format_entry(self, entry)

    def spying_redact(self: Redactor, text: str) -> str:
        working_threads.add(threading.get_ident())
        return redact(self, text)

    monkeypatch.setattr(JsonLineFormatter, "format_entry", spying_format)
    monkeypatch.setattr(Redactor, "redact", spying_redact)
    runtime = start_logging()
    callers = {threading.get_ident()}
    log.info("from the main thread: %s", "x", extra={"n": 1})

    def other() -> None:
        callers.add(threading.get_ident())
        try:
            raise KeyError("k")
        except KeyError:
            log.exception("from another thread")

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert len(lines_of(runtime, tmp_path / "csvbot.log")) == 2
    assert working_threads, "the spies saw no work"
    assert not working_threads & callers
    assert working_threads == {runtime.writer._thread.ident}


def test_arguments_and_extras_that_can_change_are_logged_as_they_were_at_the_call(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    stream = GatedStream()
    runtime = start_logging(stream=stream)
    log.info("hold the writer")
    assert stream.entered.wait(5)
    columns = ["id"]
    log.info("columns %s", columns, extra={"columns": columns, "count": len(columns)})
    columns.append("price")  # the caller moves on while the record is still queued
    stream.gate.set()
    line = lines_of(runtime, tmp_path / "csvbot.log")[1]
    assert line["message"] == "columns ['id']"
    assert line["columns"] == ["id"]


def test_an_extra_is_renamed_only_when_it_would_overwrite_a_field_of_the_line(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    runtime = start_logging()
    log.warning("refused", extra={"error_kind": "not_csv", "level": "shadow"})
    line = lines_of(runtime, tmp_path / "csvbot.log")[0]
    assert line["error_kind"] == "not_csv", "no exception wrote error_kind, so the extra keeps its name"
    assert line["level"] == "WARNING" and line["extra_level"] == "shadow"


def test_a_broken_logging_call_still_writes_a_line_saying_so(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    runtime = start_logging()
    log.info("%d rows", "many")
    (line,) = lines_of(runtime, tmp_path / "csvbot.log")
    assert line["message"] == "'%d rows'"
    assert line["log_error"].startswith("TypeError")


def test_secrets_in_every_part_of_a_record_are_masked_in_both_outputs(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
    dsn = "postgresql://csvbot:hunter2hunter2@db.example:5432/csvbot"
    stream = io.StringIO()
    runtime = start_logging(stream=stream)
    try:
        raise ConnectionError(f"cannot reach {dsn}")
    except ConnectionError:
        log.exception("token %s", token, extra={"url": f"https://api.telegram.org/bot{token}/getMe"})
    lines_of(runtime, tmp_path / "csvbot.log")
    for text in (stream.getvalue(), (tmp_path / "csvbot.log").read_text()):
        assert "AAHdqTcv" not in text and "hunter2" not in text
        assert "123456789:***" in text and "postgresql://csvbot:***@db.example" in text


def test_a_secret_in_a_chained_cause_is_masked_in_the_stack(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    """The stack is formatted on the writer, before the redactor's pass over the batch."""
    stream = io.StringIO()
    runtime = start_logging(stream=stream)
    try:
        try:
            raise ConnectionError("redis://:s3cret-pass@cache:6379 refused")
        except ConnectionError as cause:
            raise RuntimeError("queue unavailable") from cause
    except RuntimeError:
        log.exception("enqueue failed")
    (line,) = lines_of(runtime, tmp_path / "csvbot.log")
    assert "redis://:***@cache:6379 refused" in line["stack"]
    assert "s3cret" not in stream.getvalue() and "s3cret" not in (tmp_path / "csvbot.log").read_text()


def test_stop_writes_everything_still_queued(start_logging: StartLogging, tmp_path: Path) -> None:
    runtime = start_logging(stream=SlowStream(per_line=0.001))
    for i in range(300):
        log.info("record %d", i)
    assert runtime.queue_depth > 0, "the test needs records still queued when stop() is called"
    assert runtime.stop(timeout=10.0)
    lines = (tmp_path / "csvbot.log").read_text().splitlines()
    assert [json.loads(line)["message"] for line in lines] == [f"record {i}" for i in range(300)]


def test_stop_gives_up_after_its_timeout_behind_a_hung_sink(start_logging: StartLogging) -> None:
    runtime = start_logging(stream=SlowStream(per_line=0.01))
    for i in range(200):
        log.info("record %d", i)
    started = time.monotonic()
    assert not runtime.stop(timeout=0.3)
    assert time.monotonic() - started < 2.0
    # Once the slow sink catches up, the writer ends and closes the log file itself.
    assert runtime.writer.join(timeout=30.0)


def test_a_storm_against_a_slow_sink_stays_bounded_and_keeps_every_warning(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry, process_metrics=False)
    runtime = start_logging(stream=SlowStream(per_line=0.0005), queue_size=50, metrics=metrics)
    sent = {"INFO": 0, "WARNING": 0, "ERROR": 0}
    for i in range(3000):
        level = "ERROR" if i % 600 == 599 else "WARNING" if i % 100 == 99 else "INFO"
        log.log(logging.getLevelName(level), "%s %d", level, i)
        sent[level] += 1
        assert runtime.queue_depth <= 50
    assert runtime.stop(timeout=30.0)

    written = [json.loads(line) for line in (tmp_path / "csvbot.log").read_text().splitlines()]
    by_level = {level: [w for w in written if w["level"] == level] for level in sent}
    assert len(by_level["WARNING"]) == sent["WARNING"] == 25
    assert len(by_level["ERROR"]) == sent["ERROR"] == 5
    dropped_info = sent["INFO"] - len(by_level["INFO"])
    assert dropped_info > 0, "the storm should have overflowed a queue of 50"
    assert runtime.dropped["info"] == dropped_info
    assert runtime.dropped["warning"] == runtime.dropped["error"] == 0

    def sample(name: str, level: str | None = None) -> float | None:
        return registry.get_sample_value(name, {"level": level} if level else {})

    assert sample("csvbot_log_records_total", "info") == sent["INFO"]
    assert sample("csvbot_log_records_total", "warning") == sent["WARNING"]
    assert sample("csvbot_log_records_dropped_total", "info") == dropped_info
    assert sample("csvbot_log_records_dropped_total", "warning") == 0
    assert sample("csvbot_log_records_dropped_total", "error") == 0
    assert sample("csvbot_log_queue_capacity") == 50
    assert sample("csvbot_log_queue_depth") == 0
    batches = sample("csvbot_log_write_duration_seconds_count")
    assert batches is not None and 0 < batches < len(written), "records are written in batches"


def test_setting_up_twice_leaves_one_handler_and_flushes_the_first(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    first_stream, second_stream = SlowStream(per_line=0.001), io.StringIO()
    first = start_logging(stream=first_stream, log_file=tmp_path / "first.log")
    for i in range(50):
        log.info("first %d", i)
    second = start_logging(stream=second_stream, log_file=tmp_path / "second.log")
    log.info("second")
    assert [type(h) for h in logging.getLogger().handlers] == [QueueingHandler]
    assert logging.getLogger().handlers[0] is second.handler
    assert len(first_stream.getvalue().splitlines()) == 50
    assert first.queue_depth == 0
    assert [line["message"] for line in lines_of(second, tmp_path / "second.log")] == ["second"]


def test_stop_gives_the_root_logger_back_its_previous_handlers(start_logging: StartLogging) -> None:
    root = logging.getLogger()
    mine = logging.StreamHandler(io.StringIO())
    root.addHandler(mine)
    try:
        runtime = start_logging()
        assert mine not in root.handlers, "JSON lines are the only output while running"
        runtime.stop()
        assert mine in root.handlers
    finally:
        root.removeHandler(mine)


def test_library_loggers_share_the_path_and_chatty_ones_start_at_warning(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    runtime = start_logging(level="INFO")
    logging.getLogger("aiogram.dispatcher").info("Start polling")
    logging.getLogger("asyncpg.pool").warning("connection lost")
    logging.getLogger("httpx").info("HTTP Request: GET https://x.supabase.co/storage/v1/object")
    logging.getLogger("aiogram.event").info("Update id=1 is handled")
    logging.getLogger("httpx").warning("retrying")
    lines = lines_of(runtime, tmp_path / "csvbot.log")
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("aiogram.dispatcher", "Start polling"),
        ("asyncpg.pool", "connection lost"),
        ("httpx", "retrying"),
    ]


def test_debug_records_are_filtered_out_below_the_configured_level(
    start_logging: StartLogging, tmp_path: Path
) -> None:
    runtime = start_logging(level="warning")
    log.info("not written")
    log.warning("written")
    assert [line["message"] for line in lines_of(runtime, tmp_path / "csvbot.log")] == ["written"]


def test_an_unknown_level_name_is_refused(start_logging: StartLogging) -> None:
    with pytest.raises(ValueError, match="log level must be one of"):
        start_logging(level="LOUD")
