"""OpenTelemetry tracing: provider set-up, W3C context in plain dicts, exemplars for histograms.

``setup_tracing`` is explicit and idempotent. With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, spans go over OTLP/HTTP to the collector sidecar
through a batch processor. Without it, a provider still runs — spans get real ids, so log lines and
exemplars can carry them — but nothing is exported and nothing complains.

Trace context travels with a job as a plain ``{"traceparent": …, "tracestate": …}`` dict: stored
in the job row and carried in the task's labels, so the worker's spans join the bot's trace.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "TracingRuntime",
    "asyncio_tracing_requested",
    "current_trace_ids",
    "exemplar",
    "extract_context",
    "inject_context",
    "setup_tracing",
]

_PROPAGATOR = TraceContextTextMapPropagator()
_runtime: TracingRuntime | None = None


@dataclass
class TracingRuntime:
    """Handle on the running tracer provider; ``shutdown`` flushes and stops export."""

    provider: TracerProvider
    exporting: bool
    instrumented_asyncio: bool = False

    def force_flush(self, timeout_seconds: float = 5.0) -> bool:
        return self.provider.force_flush(int(timeout_seconds * 1000))

    def shutdown(self) -> None:
        global _runtime  # noqa: PLW0603 - OpenTelemetry allows one provider per process
        if self.instrumented_asyncio:
            from opentelemetry.instrumentation.asyncio import AsyncioInstrumentor

            AsyncioInstrumentor().uninstrument()
        self.provider.shutdown()
        if _runtime is self:
            _runtime = None


def _otlp_endpoint(explicit: str | None) -> str | None:
    return (
        explicit
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or None
    )


def asyncio_tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether any ``OTEL_PYTHON_ASYNCIO_*`` variable names something to trace.

    The asyncio instrumentation wraps every coroutine handed to ``create_task``, ``gather`` or
    ``wait_for`` in a coroutine of its own and records an OTel metric for each, whether or not a
    name matches; with nothing named it produces no span at all, only that cost on every task the
    bot starts (one per update at least), so it is installed only when asked for.
    """
    names = (
        environ.get("OTEL_PYTHON_ASYNCIO_COROUTINE_NAMES_TO_TRACE", ""),
        environ.get("OTEL_PYTHON_ASYNCIO_TO_THREAD_FUNCTION_NAMES_TO_TRACE", ""),
    )
    futures = environ.get("OTEL_PYTHON_ASYNCIO_FUTURE_TRACE_ENABLED", "false").strip().lower() == "true"
    return futures or any(name.strip(" ,") for name in names)


def setup_tracing(
    *,
    service_name: str,
    version: str = "0.0.0",
    endpoint: str | None = None,
    exporter: SpanExporter | None = None,
    instrument_asyncio: bool = False,
) -> TracingRuntime:
    """Install csvbot's tracer provider once per process and return its handle.

    ``service_name`` is ``csvbot-bot`` or ``csvbot-worker``. ``exporter`` (tests: an in-memory
    exporter) is attached with a simple processor so spans are visible at once; otherwise OTLP/HTTP
    is used when an endpoint is configured. A second call returns the first runtime unchanged.
    """
    global _runtime  # noqa: PLW0603 - OpenTelemetry allows one provider per process
    if _runtime is not None:
        return _runtime

    resource = Resource.create(
        {
            "service.name": service_name,
            "service.version": version,
            "service.instance.id": f"{socket.gethostname()}-{os.getpid()}",
        }
    )
    provider = TracerProvider(resource=resource)
    processor: SpanProcessor | None = None
    if exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    else:
        url = _otlp_endpoint(endpoint)
        if url:
            # Imported lazily: the exporter pulls in protobuf and requests, which a process
            # without a collector never needs.
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            traces_url = url if url.endswith("/v1/traces") else url.rstrip("/") + "/v1/traces"
            # Batching keeps export off the request path; a collector that is down costs
            # dropped spans, never a blocked event loop.
            processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url))
    if processor is not None:
        provider.add_span_processor(processor)

    # ``set_tracer_provider`` refuses a second provider; tests that need a fresh one use
    # ``provider.get_tracer`` directly instead of the global.
    trace.set_tracer_provider(provider)
    instrumented = False
    if instrument_asyncio and asyncio_tracing_requested():
        from opentelemetry.instrumentation.asyncio import AsyncioInstrumentor

        AsyncioInstrumentor().instrument(tracer_provider=provider)
        instrumented = True
    _runtime = TracingRuntime(
        provider=provider, exporting=processor is not None, instrumented_asyncio=instrumented
    )
    return _runtime


def inject_context(ctx: otel_context.Context | None = None) -> dict[str, str]:
    """The current (or given) trace context as a W3C ``traceparent``/``tracestate`` dict."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=ctx)
    return carrier


def extract_context(carrier: Mapping[str, str] | None) -> otel_context.Context:
    """A context whose parent is the span described by ``carrier`` (empty dict: a new trace)."""
    return _PROPAGATOR.extract(dict(carrier or {}))


def current_trace_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` in hex of the active span, or ``None`` outside any span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def exemplar() -> dict[str, str] | None:
    """An exemplar label set linking a histogram observation to the active sampled trace.

    Exemplars are exposed in the OpenMetrics format, which Prometheus negotiates when its exemplar
    storage is enabled; in the classic text format they are simply left out.
    """
    span_context = trace.get_current_span().get_span_context()
    if not (span_context.is_valid and span_context.trace_flags.sampled):
        return None
    return {"trace_id": format(span_context.trace_id, "032x")}
