"""Spans for the job queue (OpenTelemetry messaging conventions) and for background ticks.

``send_span`` wraps putting a task on the queue: a PRODUCER span ``send <task>`` whose context is
what travels with the message, so the consumer's span is its child. ``process_span`` wraps
running it: a CONSUMER span ``process <task>`` under the producer span, inside which the job's
own spans run. The queue wait is then visible in the trace as the gap between the two.

``quiet_tick`` runs a periodic duty (the reaper's tick) without recording its spans: it runs
under a non-sampled parent, so a tick that finds nothing to do leaves no trace at all; the duty
opens :func:`tick_span` (a root span of its own) only once it has something to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from telemetry.tracing import extract_context, inject_context

__all__ = ["process_span", "quiet_tick", "send_span", "tick_span"]

_ids = RandomIdGenerator()


def _tracer() -> trace.Tracer:
    # Looked up per call: the provider is installed by setup_tracing after this module loads.
    return trace.get_tracer("csvbot.messaging")


def _attributes(system: str, destination: str, operation: str, job_id: str) -> dict[str, str]:
    return {
        "messaging.system": system,
        "messaging.destination.name": destination,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "csvbot.job_id": job_id,
    }


@contextlib.contextmanager
def send_span(
    task: str,
    *,
    system: str,
    destination: str,
    job_id: str,
    carrier: Mapping[str, str],
    tracer: trace.Tracer | None = None,
) -> Iterator[dict[str, str]]:
    """A PRODUCER span under ``carrier``'s trace; yields the context to send with the message."""
    with (tracer or _tracer()).start_as_current_span(
        f"send {task}",
        context=extract_context(carrier),
        kind=SpanKind.PRODUCER,
        attributes=_attributes(system, destination, "send", job_id),
    ):
        yield inject_context()


@contextlib.contextmanager
def process_span(
    task: str,
    *,
    system: str,
    destination: str,
    job_id: str,
    carrier: Mapping[str, str],
    tracer: trace.Tracer | None = None,
) -> Iterator[dict[str, str]]:
    """A CONSUMER span under the message's context; yields the context the task's work joins."""
    with (tracer or _tracer()).start_as_current_span(
        f"process {task}",
        context=extract_context(carrier),
        kind=SpanKind.CONSUMER,
        attributes=_attributes(system, destination, "process", job_id),
    ):
        yield inject_context()


@contextlib.contextmanager
def quiet_tick() -> Iterator[None]:
    """Spans started inside are children of a non-sampled span: not recorded, not exported."""
    parent = NonRecordingSpan(
        SpanContext(
            trace_id=_ids.generate_trace_id(),
            span_id=_ids.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.DEFAULT),
        )
    )
    token = otel_context.attach(trace.set_span_in_context(parent))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextlib.contextmanager
def tick_span(name: str, tracer: trace.Tracer | None = None, **attributes: int | str) -> Iterator[trace.Span]:
    """A root span for a tick that did something (inside :func:`quiet_tick` too)."""
    with (tracer or _tracer()).start_as_current_span(
        name, context=otel_context.Context(), attributes=attributes
    ) as span:
        yield span
