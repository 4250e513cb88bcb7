"""The queue shows in traces as producer → consumer spans, and a quiet tick leaves no trace."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from telemetry.messaging import process_span, quiet_tick, send_span, tick_span
from telemetry.tracing import extract_context, inject_context


def _tracer():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def test_upload_send_process_and_job_form_one_chain_in_one_trace() -> None:
    tracer, exporter = _tracer()
    where = {"system": "redis", "destination": "csvbot:jobs", "job_id": "abc"}
    with tracer.start_as_current_span("bot.update"):
        upload = inject_context()
    with send_span("csvbot.process_job", **where, carrier=upload, tracer=tracer) as message:
        pass
    with process_span("csvbot.process_job", **where, carrier=message, tracer=tracer) as work:
        pass
    with tracer.start_as_current_span("worker.process_job", context=extract_context(work)):
        pass
    spans = {s.name: s for s in exporter.get_finished_spans()}
    send, process = spans["send csvbot.process_job"], spans["process csvbot.process_job"]
    assert send.kind is SpanKind.PRODUCER and process.kind is SpanKind.CONSUMER
    assert send.parent is not None and send.parent.span_id == spans["bot.update"].context.span_id
    assert process.parent is not None and process.parent.span_id == send.context.span_id
    job = spans["worker.process_job"]
    assert job.parent is not None and job.parent.span_id == process.context.span_id
    assert len({s.context.trace_id for s in spans.values()}) == 1
    assert send.attributes is not None and send.attributes["messaging.destination.name"] == "csvbot:jobs"
    assert send.attributes["messaging.operation.type"] == "send"


def test_a_tick_that_does_nothing_exports_no_span_and_one_that_works_exports_one_root() -> None:
    tracer, exporter = _tracer()
    with quiet_tick():
        with tracer.start_as_current_span("db.requeue_stale_jobs"):
            pass
        with tracer.start_as_current_span("db.count_jobs"):
            pass
    assert exporter.get_finished_spans() == ()
    with quiet_tick():
        with tracer.start_as_current_span("db.requeue_stale_jobs"):
            pass
        with (
            tick_span("reaper.tick", tracer=tracer, requeued=1, failed=0),
            tracer.start_as_current_span("send csvbot.process_job"),
        ):
            pass
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["send csvbot.process_job", "reaper.tick"]
    root = exporter.get_finished_spans()[1]
    assert root.parent is None and root.attributes is not None and root.attributes["requeued"] == 1
