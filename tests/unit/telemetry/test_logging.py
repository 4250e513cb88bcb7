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
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from telemetry.logging import (
    NOISY_LOGGERS,
    LoggingRuntime,
    setup_logging,
    shutdown_logging,
)
from telemetry.logging.capture import QueueingHandler
from telemetry.logging.format import JsonLineFormatter
from telemetry.logging.redaction import Redactor
from telemetry.metrics import Metrics

log = logging.getLogger("csvbot.test.logging")


class SlowStream(io.StringIO):
    """A sink that takes ``per_line`` seconds for every line it is given."""

    def __init__(self, per_line: float) -> None:
        super().__init__()
        self.per_line = per_line

    def write(self, text: str) -> int:
        time.sleep(self.per_line * text.count("\n"))
        return super().write(text)


class GatedStream(io.StringIO):
    """A sink whose writes wait for ``gate``: holds the writer so records stay queued."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        self.gate.wait(10)
        return super().write(text)


StartLogging = Callable[..., LoggingRuntime]


@pytest.fixture
def start_logging(tmp_path: Path) -> Iterator[StartLogging]:
    """Starts csvbot logging (stream: a StringIO unless given; file: tmp_path/csvbot.log).

    Afterwards it stops whatever is running and checks that the root logger, the noisy library
    loggers and logging's module switches are back as they were.
    """
    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.logThreads, logging._srcfile)
    noisy_before = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}

    def start(**kwargs: Any) -> LoggingRuntime:
        kwargs.setdefault("service_name", "csvbot-test")
        kwargs.setdefault("stream", io.StringIO())
        kwargs.setdefault("log_file", tmp_path / "csvbot.log")
        kwargs.setdefault("level", "DEBUG")
        return setup_logging(**kwargs)

    try:
        yield start
    finally:
        shutdown_logging(timeout=5.0)
        after = (set(root.handlers), root.level, logging.logThreads, logging._srcfile)
        root.handlers[:], root.level = before[0], before[1]
        assert after == (set(before[0]), *before[1:]), "stop() did not restore the logging module"
        assert {name: logging.getLogger(name).level for name in NOISY_LOGGERS} == noisy_before


def lines_of(runtime: LoggingRuntime, path: Path) -> list[dict[str, Any]]:
    assert runtime.flush(10.0)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


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


def test_a_queued_exception_does_not_keep_its_frames_alive(start_logging: StartLogging) -> None:
    stream = GatedStream()
    runtime = start_logging(stream=stream)
    log.info("hold the writer")
    assert stream.entered.wait(5)
    refs: list[weakref.ref[object]] = []

    class Payload:
        pass

    def fail() -> None:
        payload = Payload()  # a local, like a CSV buffer in a failing job
        refs.append(weakref.ref(payload))
        raise RuntimeError("boom")

    try:
        fail()
    except RuntimeError:
        log.exception("failed")
    assert runtime.queue_depth == 1
    gc.collect()
    assert refs[0]() is None, "the queued record pins the failed frame's locals"
    stream.gate.set()


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
