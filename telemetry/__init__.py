"""csvbot's telemetry library: what the service logs, measures and traces.

Import-safe and shared by the bot and worker processes: importing it starts no thread, opens no
port and touches no logger. Everything starts through explicit, idempotent calls.

Logs — :mod:`telemetry.logging`
    ``setup_logging(service_name=…, level=…, log_file=…, queue_size=…, metrics=…)``. One JSON line
    per record on stderr (and ``LOG_FILE``): ``timestamp``, ``level``, ``logger``, ``message``,
    ``service``, the active span's ``trace_id``/``span_id``, ``exc_type``/``exc_message``/
    ``error_kind``/``stack`` for exceptions, and the call's ``extra`` fields (``event``,
    ``job_id``, ``error_kind``, …; one ``event="job_end"`` line per job attempt). The caller's
    thread only enqueues; formatting, redaction of secrets (bot tokens, JWTs and Supabase keys,
    DSN passwords, tokens in Bot API URLs, registered values) and I/O happen on a writer thread.
    The queue is bounded (``LOG_QUEUE_SIZE``): when full it sheds DEBUG/INFO first and never drops
    WARNING+ while a lower record can go instead (:mod:`telemetry.logging.queue`).

Metrics — :mod:`telemetry.metrics` (names, types, buckets) and :mod:`telemetry.labels` (closed
label sets)
    Errors by component and kind; updates and their latency by handler and outcome; Bot API calls
    by method and status; jobs by outcome, stage durations, queue wait, upload-to-result time,
    in-flight jobs, queue depth, requeues, worker heartbeat; storage latency by operation and
    outcome, retries, timeouts, slow calls, bytes; database session limit and ceiling, pool in use,
    waiters, pool wait, acquire timeouts, query latency by query; event-loop lag; the log path's own
    records, drops, queue depth and write latency; process CPU, memory and file descriptors.
    Served with ``/healthz`` and ``/readyz`` by :func:`telemetry.server.start_metrics_server`.

Thresholds — :mod:`telemetry.slo`
    Every timeout, SLO target, alert threshold and histogram bucket, used by the service, the
    dashboards and the alert rules alike.

Traces — :mod:`telemetry.tracing`
    ``setup_tracing(service_name="csvbot-bot"|"csvbot-worker", …)``; OTLP/HTTP export when
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. One trace per user action: ``bot.update`` (root) →
    ``telegram.<method>`` · ``storage.<operation>`` · ``db.<query>`` → ``worker.process_job``
    (joined through the W3C context stored with the job and carried in the task's labels) →
    ``storage.download`` · ``csv.process`` · ``storage.upload_file`` · ``db.finish_job`` ·
    ``telegram.sendDocument``. Histograms carry the trace id as an exemplar.

Event-loop lag — :mod:`telemetry.loop_lag`
    ``LoopLagMonitor(metrics).start()``: lag histogram and recent max; one warning per episode
    naming the task and code that blocked the loop.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telemetry.logging import LoggingRuntime, register_secret, setup_logging
    from telemetry.loop_lag import LoopLagMonitor
    from telemetry.metrics import Metrics
    from telemetry.server import HealthState, MetricsServer, start_metrics_server
    from telemetry.tracing import TracingRuntime, extract_context, inject_context, setup_tracing

#: The entry points, by the module that defines them. Loaded on first use (PEP 562), so that
#: ``from telemetry import slo`` — which the alert and dashboard generators do — stays as cheap
#: as importing the thresholds alone.
_ENTRY_POINTS: dict[str, str] = {
    "setup_logging": "telemetry.logging",
    "register_secret": "telemetry.logging",
    "LoggingRuntime": "telemetry.logging",
    "Metrics": "telemetry.metrics",
    "setup_tracing": "telemetry.tracing",
    "TracingRuntime": "telemetry.tracing",
    "inject_context": "telemetry.tracing",
    "extract_context": "telemetry.tracing",
    "start_metrics_server": "telemetry.server",
    "MetricsServer": "telemetry.server",
    "HealthState": "telemetry.server",
    "LoopLagMonitor": "telemetry.loop_lag",
}

__all__ = [
    "HealthState",
    "LoggingRuntime",
    "LoopLagMonitor",
    "Metrics",
    "MetricsServer",
    "TracingRuntime",
    "extract_context",
    "inject_context",
    "register_secret",
    "setup_logging",
    "setup_tracing",
    "start_metrics_server",
]


def __getattr__(name: str) -> Any:
    module = _ENTRY_POINTS.get(name)
    if module is None:
        raise AttributeError(f"module 'telemetry' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
