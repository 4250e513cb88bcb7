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
