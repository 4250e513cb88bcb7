"""Storage fixtures: the Supabase Storage test server and a started backend of each kind."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from emulators.supabase_storage import SupabaseStorageServer
from service.storage import Storage
from telemetry.metrics import Metrics
from tests.unit.storage.support import KEY, make_storage, settings_for, tracing


@pytest.fixture
async def storage_server() -> AsyncIterator[SupabaseStorageServer]:
    async with SupabaseStorageServer(key=KEY) as server:
        yield server


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    return tracing()


@pytest.fixture(params=["local", "supabase"])
async def storage(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    metrics: Metrics,
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> AsyncIterator[Storage]:
    """A started backend of each kind; the Supabase one talks to the test server."""
    async with contextlib.AsyncExitStack() as stack:
        url: str | None = None
        if request.param == "supabase":
            server = await stack.enter_async_context(SupabaseStorageServer(key=KEY))
            url = server.url
        backend = make_storage(settings_for(url, tmp_path / "storage"), metrics, provider=spans[0])
        yield await stack.enter_async_context(backend)
