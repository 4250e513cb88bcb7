"""Trace context survives a round trip through a plain dict, and exemplars carry the trace id."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from telemetry.tracing import (
    asyncio_tracing_requested,
    current_trace_ids,
    exemplar,
    extract_context,
    inject_context,
)


def _tracer():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def test_injected_context_makes_the_next_span_a_child_in_the_same_trace() -> None:
    tracer, exporter = _tracer()
    with tracer.start_as_current_span("bot.update") as parent:
        carrier = inject_context()
    assert carrier["traceparent"].startswith("00-")
    with tracer.start_as_current_span("worker.process_job", context=extract_context(carrier)):
        pass
    spans = {s.name: s for s in exporter.get_finished_spans()}
    child = spans["worker.process_job"]
    assert child.context.trace_id == parent.get_span_context().trace_id
    assert child.parent is not None and child.parent.span_id == parent.get_span_context().span_id


def test_empty_carrier_starts_a_new_trace() -> None:
    tracer, _ = _tracer()
    with tracer.start_as_current_span("a") as a:
        pass
    with tracer.start_as_current_span("b", context=extract_context({})) as b:
        assert b.parent is None
    assert a.get_span_context().trace_id != b.get_span_context().trace_id


def test_ids_and_exemplar_follow_the_active_span() -> None:
    tracer, _ = _tracer()
    assert current_trace_ids() is None
    assert exemplar() is None
    with tracer.start_as_current_span("x") as span:
        trace_id, span_id = current_trace_ids() or ("", "")
        assert trace_id == format(span.get_span_context().trace_id, "032x")
        assert span_id == format(span.get_span_context().span_id, "016x")
        assert exemplar() == {"trace_id": trace_id}


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_PYTHON_ASYNCIO_COROUTINE_NAMES_TO_TRACE": ""}, False),
        ({"OTEL_PYTHON_ASYNCIO_COROUTINE_NAMES_TO_TRACE": " , "}, False),
        ({"OTEL_PYTHON_ASYNCIO_FUTURE_TRACE_ENABLED": "False"}, False),
        ({"OTEL_PYTHON_ASYNCIO_COROUTINE_NAMES_TO_TRACE": "process_job"}, True),
        ({"OTEL_PYTHON_ASYNCIO_TO_THREAD_FUNCTION_NAMES_TO_TRACE": "process_csv"}, True),
        ({"OTEL_PYTHON_ASYNCIO_FUTURE_TRACE_ENABLED": "true"}, True),
    ],
)
def test_asyncio_is_instrumented_only_when_something_is_named(
    environ: dict[str, str], requested: bool
) -> None:
    """With nothing named the instrumentation makes no span, yet wraps every task it sees."""
    assert asyncio_tracing_requested(environ) is requested
