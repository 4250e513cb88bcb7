"""Per-process runtime shared by the bot and worker processes: telemetry start-up and shutdown,
and running until a signal (:func:`run_until_signal`).

Order matters: logging first (so everything after can log), then tracing, metrics and the
endpoint, and the loop-lag monitor last; shutdown runs in reverse and flushes logs last, so the
final lines of a process — including its shutdown errors — are never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import signal
import sys
from collections.abc import Awaitable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry

from service.config import Settings
from telemetry.logging import LoggingRuntime, register_secret, setup_logging
from telemetry.loop_lag import LoopLagMonitor
from telemetry.metrics import Metrics
from telemetry.server import HealthState, MetricsServer, start_metrics_server
from telemetry.tracing import TracingRuntime, setup_tracing

log = logging.getLogger(__name__)


class _Discard(io.StringIO):
    """A stream that drops what it is given: stderr of a process that logs to ``LOG_FILE`` only."""

    def write(self, text: str) -> int:
        return len(text)


def csvbot_version() -> str:
    try:
        return version("csvbot")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0.0.0"


def _secrets(settings: Settings) -> list[str]:
    """Every secret value a log line must never show, including bare passwords from URLs
    (drivers sometimes log the password alone)."""
    values = [
        s.get_secret_value()
        for s in (settings.bot_token, settings.supabase_key, settings.database_url, settings.webhook_secret)
        if s is not None and s.get_secret_value()
    ]
    for url in (
        settings.database_url.get_secret_value() if settings.database_url else None,
        settings.redis_url,
    ):
        password = urlsplit(url).password if url else None
        if password:
            values.append(password)
    return values


@dataclass
class Telemetry:
    metrics: Metrics
    health: HealthState
    logging: LoggingRuntime | None
    tracing: TracingRuntime | None
    server: MetricsServer | None
    loop_lag: LoopLagMonitor

    @classmethod
    def start(
        cls,
        settings: Settings,
        *,
        service: str,
        serve_metrics: bool = True,
        configure_logging: bool = True,
        metrics_port: int | None = None,
        log_to_stderr: bool = True,
    ) -> Telemetry:
        """Start everything; call from inside the running event loop (the lag monitor needs it)."""
        ver = csvbot_version()
        registry = CollectorRegistry()
        metrics = Metrics(registry, service=service, version=ver)
        metrics.publish_config(
            storage_timeout_seconds=settings.storage_timeout_seconds,
            storage_slow_seconds=settings.storage_slow_seconds,
            db_acquire_timeout_seconds=settings.db_acquire_timeout_seconds,
            job_lease_seconds=settings.job_lease_seconds,
        )
        logging_rt = None
        if configure_logging:
            for secret in (
                settings.bot_token,
                settings.supabase_key,
                settings.database_url,
                settings.webhook_secret,
            ):
                if secret is not None:
                    register_secret(secret.get_secret_value())
            logging_rt = setup_logging(
                service_name=f"csvbot-{service}",
                # TELEMETRY=minimal (measuring what telemetry costs): warnings and errors only.
                level="WARNING" if settings.telemetry == "minimal" else settings.log_level,
                log_file=settings.log_file,
                queue_size=settings.log_queue_size,
                metrics=metrics,
                # The simulator draws a live view on the terminal: its logs go to LOG_FILE only.
                stream=sys.stderr if log_to_stderr else _Discard(),
            )
        tracing_rt = (
            None
            if settings.telemetry == "minimal"
            else setup_tracing(
                service_name=f"csvbot-{service}",
                version=ver,
                endpoint=settings.otel_exporter_otlp_endpoint,
                # Traces the coroutines and to_thread calls named in OTEL_PYTHON_ASYNCIO_* variables
                # (installed only when one names something: the wrapping costs CPU per task).
                instrument_asyncio=True,
            )
        )
        health = HealthState()
        server = None
        if serve_metrics:
            port = settings.metrics_port if metrics_port is None else metrics_port
            server = start_metrics_server(registry, host=settings.metrics_host, port=port, health=health)
            log.info("metrics endpoint listening", extra={"event": "metrics_listening", "url": server.url})
        lag = LoopLagMonitor(metrics)
        lag.start()
        return cls(metrics, health, logging_rt, tracing_rt, server, lag)

    async def stop(self) -> None:
        await self.loop_lag.stop()
        if self.server is not None:
            self.server.stop()
        if self.tracing is not None:
            self.tracing.force_flush(2.0)
        if self.logging is not None:
            self.logging.stop(timeout=2.0)


async def run_until_signal(coro: Awaitable[Any]) -> None:
    """Run ``coro`` until it ends or the process gets SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
