"""Helpers shared by the storage tests (unit and integration): settings, backends, tracing."""

from __future__ import annotations

import random
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from service.config import Settings
from service.storage import Storage, build_storage
from service.storage.retry import RetryPolicy
from telemetry.metrics import Metrics

KEY = "csvbot-test-service-key"
BUCKET = "csvbot-test-files"
#: Short backoff so retry tests take milliseconds; same shape as production.
FAST_RETRIES = RetryPolicy(max_attempts=4, base_delay_seconds=0.01, max_delay_seconds=0.05)


def settings_for(
    supabase_url: str | None,
    storage_dir: Path,
    *,
    key: str = KEY,
    timeout: float = 5.0,
    slow: float | None = None,
) -> Settings:
    """Settings for one backend; every storage field explicit so the environment cannot leak in."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        supabase_url=supabase_url,
        supabase_key=key if supabase_url else None,
        supabase_bucket=BUCKET,
        storage_dir=storage_dir,
        storage_timeout_seconds=timeout,
        storage_slow_seconds=timeout if slow is None else slow,
    )


def tracing() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def make_storage(
    settings: Settings,
    metrics: Metrics,
    *,
    provider: TracerProvider | None = None,
    retry_policy: RetryPolicy | None = FAST_RETRIES,
) -> Storage:
    """An unstarted backend with fast, seeded retries (local backends keep their single attempt)."""
    return build_storage(
        settings,
        metrics,
        retry_policy=retry_policy if settings.uses_supabase_storage else None,
        tracer_provider=provider,
        rng=random.Random(7),
    )


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """A metric sample's value; 0.0 when the series does not exist."""
    return registry.get_sample_value(name, labels) or 0.0


def outcomes(registry: CollectorRegistry, operation: str, outcome: str) -> float:
    """How many ``operation`` calls ended with ``outcome``."""
    return sample(
        registry,
        "csvbot_storage_request_duration_seconds_count",
        operation=operation,
        outcome=outcome,
    )
