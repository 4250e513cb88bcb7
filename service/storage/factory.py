"""Choose and build the storage backend from :class:`~service.config.Settings`."""

from __future__ import annotations

import random

from opentelemetry import trace

from service.config import Settings
from service.storage.base import Storage
from service.storage.local import LocalStorage
from service.storage.retry import NO_RETRY, RetryPolicy
from service.storage.runner import OperationRunner
from service.storage.supabase_backend import SupabaseStorage
from telemetry.metrics import Metrics

__all__ = ["build_storage"]


def build_storage(
    settings: Settings,
    metrics: Metrics,
    *,
    retry_policy: RetryPolicy | None = None,
    tracer_provider: trace.TracerProvider | None = None,
    rng: random.Random | None = None,
) -> Storage:
    """Supabase Storage when ``SUPABASE_URL`` is set, else the local folder ``STORAGE_DIR``.

    The backend is returned unstarted: ``async with build_storage(...) as storage`` (or
    ``await storage.start()``) connects, creates the bucket if needed and fails fast on a bad
    ``SUPABASE_URL``/``SUPABASE_KEY``. ``retry_policy``, ``tracer_provider`` and ``rng`` exist
    for tests and benchmarks; production uses the defaults.
    """
    remote = settings.uses_supabase_storage
    runner = OperationRunner(
        metrics,
        backend="supabase" if remote else "local",
        timeout_seconds=settings.storage_timeout_seconds,
        slow_seconds=settings.storage_slow_seconds,
        # A local disk error does not heal in 100 ms: only the network backend retries.
        retry_policy=retry_policy or (RetryPolicy() if remote else NO_RETRY),
        tracer_provider=tracer_provider,
        rng=rng,
    )
    if remote:
        assert settings.supabase_url is not None and settings.supabase_key is not None  # validated
        return SupabaseStorage(
            url=settings.supabase_url,
            key=settings.supabase_key,
            bucket=settings.supabase_bucket,
            runner=runner,
        )
    return LocalStorage(settings.storage_dir, runner=runner)
