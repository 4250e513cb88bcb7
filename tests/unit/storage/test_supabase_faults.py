"""The Supabase backend under injected faults: what is retried, what is not, and what is counted.

These faults end quickly (errors, resets, truncation); the deadline tests (hang, trickle) are in
tests/integration/storage.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from emulators.supabase_storage import Fault, SupabaseStorageServer
from service.errors import (
    ConfigError,
    StorageIntegrityError,
    StorageNotFoundError,
    StorageRejectedError,
    StorageUnavailableError,
)
from service.storage import Storage, input_key
from telemetry.metrics import Metrics
from tests.unit.storage.support import BUCKET, make_storage, outcomes, sample, settings_for

CSV = b"id,value\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(2000))
KEY_A = input_key(11, "fault-a")


@pytest.fixture
async def remote(
    storage_server: SupabaseStorageServer, metrics: Metrics, tmp_path: Path
) -> AsyncIterator[Storage]:
    backend = make_storage(settings_for(storage_server.url, tmp_path / "unused"), metrics)
    async with backend:
        await backend.upload_bytes(KEY_A, CSV, "text/csv")
        storage_server.reset_counters()
        yield backend


def retries(registry: CollectorRegistry, operation: str) -> float:
    return sample(registry, "csvbot_storage_retries_total", operation=operation)


async def test_a_503_then_success_is_retried_and_succeeds(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry, tmp_path: Path
) -> None:
    storage_server.faults.add(Fault.error_status(503, operations={"download"}, count=1))
    path = await remote.download_to_file(KEY_A, tmp_path)
    assert path.read_bytes() == CSV
    assert storage_server.request_count("download", 503) == 1
    assert storage_server.request_count("download", 200) == 1
    assert retries(registry, "download") == 1
    assert outcomes(registry, "download", "ok") == 1


async def test_persistent_500s_stop_after_the_attempt_limit_as_unavailable(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry
) -> None:
    storage_server.faults.add(Fault.error_status(500, operations={"sign"}))
    with pytest.raises(StorageUnavailableError):
        await remote.signed_url(KEY_A, 60)
    assert storage_server.request_count("sign") == 4  # FAST_RETRIES.max_attempts
    assert retries(registry, "sign") == 3
    assert outcomes(registry, "sign", "storage_unavailable") == 1
    assert sample(registry, "csvbot_errors_total", component="storage", kind="storage_unavailable") == 1


async def test_a_404_is_not_retried(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry, tmp_path: Path
) -> None:
    with pytest.raises(StorageNotFoundError):
        await remote.download_to_file(input_key(11, "absent"), tmp_path)
    assert storage_server.request_count("download") == 1
    assert retries(registry, "download") == 0


async def test_a_refused_upload_is_rejected_and_not_retried(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry
) -> None:
    """A 4xx that cannot succeed (object too large) is tried once."""
    assert storage_server.store is not None
    storage_server.store.max_object_bytes = 1024
    with pytest.raises(StorageRejectedError):
        await remote.upload_bytes(input_key(11, "too-big"), b"x" * 4096, "text/csv")
    assert storage_server.request_count("upload") == 1
    assert retries(registry, "upload") == 0
    assert outcomes(registry, "upload", "storage_rejected") == 1


async def test_a_truncated_download_is_an_integrity_error_with_no_file_left(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry, tmp_path: Path
) -> None:
    storage_server.faults.add(Fault.truncate(operations={"download"}))
    dest = tmp_path / "scratch"
    with pytest.raises(StorageIntegrityError):
        await remote.download_to_file(KEY_A, dest)
    assert list(dest.iterdir()) == []
    assert storage_server.request_count("download") == 4  # integrity errors are retryable
    assert outcomes(registry, "download", "storage_integrity") == 1


async def test_a_connection_reset_mid_body_is_retried_and_the_retry_succeeds(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry, tmp_path: Path
) -> None:
    storage_server.faults.add(Fault.reset(after_bytes=1000, operations={"download"}, count=1))
    dest = tmp_path / "scratch"
    path = await remote.download_to_file(KEY_A, dest)
    assert path.read_bytes() == CSV
    assert [p.name for p in dest.iterdir()] == [path.name]
    assert retries(registry, "download") == 1


async def test_an_upload_whose_answer_is_lost_is_retried_as_an_upsert(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry
) -> None:
    """The server stores the body, then resets before answering: the retry must not conflict."""
    storage_server.faults.add(Fault.reset(after_bytes=0, operations={"upload"}, count=1))
    key = input_key(11, "ambiguous")
    await remote.upload_bytes(key, b"a,b\n", "text/csv")
    assert storage_server.object_bytes(BUCKET, key) == b"a,b\n"
    assert storage_server.request_count("upload", 200) == 2
    assert retries(registry, "upload") == 1


async def test_delete_is_retried_after_a_503(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry
) -> None:
    storage_server.faults.add(Fault.error_status(503, operations={"remove"}, count=1))
    await remote.delete(KEY_A)
    assert storage_server.object_bytes(BUCKET, KEY_A) is None
    assert retries(registry, "delete") == 1


async def test_health_probe_is_never_retried(
    remote: Storage, storage_server: SupabaseStorageServer, registry: CollectorRegistry
) -> None:
    storage_server.faults.add(Fault.error_status(503, operations={"get_bucket"}, count=1))
    with pytest.raises(StorageUnavailableError):
        await remote.health()
    assert storage_server.request_count("get_bucket") == 1
    assert retries(registry, "health") == 0


async def test_a_slow_call_that_finishes_is_logged_and_counted_as_slow(
    storage_server: SupabaseStorageServer,
    metrics: Metrics,
    registry: CollectorRegistry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(storage_server.url, tmp_path, timeout=5.0, slow=0.2)
    async with make_storage(settings, metrics) as backend:
        storage_server.faults.add(Fault.latency(0.3, operations={"sign"}))
        await backend.upload_bytes(KEY_A, CSV, "text/csv")
        with caplog.at_level(logging.WARNING, logger="service.storage.runner"):
            await backend.signed_url(KEY_A, 60)
    assert sample(registry, "csvbot_storage_slow_requests_total", operation="sign") == 1
    assert sample(registry, "csvbot_storage_slow_requests_total", operation="upload") == 0
    slow = [r for r in caplog.records if getattr(r, "operation", None) == "sign"]
    assert slow and slow[0].levelno == logging.WARNING
    assert slow[0].key == KEY_A  # type: ignore[attr-defined]


async def test_start_creates_a_missing_bucket(
    storage_server: SupabaseStorageServer, metrics: Metrics, tmp_path: Path
) -> None:
    assert storage_server.store is not None
    assert BUCKET not in storage_server.store.buckets
    async with make_storage(settings_for(storage_server.url, tmp_path), metrics):
        pass
    assert BUCKET in storage_server.store.buckets
    assert storage_server.request_count("create_bucket", 200) == 1


async def test_start_with_a_wrong_key_names_supabase_key(
    storage_server: SupabaseStorageServer, metrics: Metrics, tmp_path: Path
) -> None:
    settings = settings_for(storage_server.url, tmp_path, key="not-the-key")
    with pytest.raises(ConfigError) as caught:
        await make_storage(settings, metrics).start()
    assert caught.value.variable == "SUPABASE_KEY"
    assert "not-the-key" not in str(caught.value)


async def test_start_against_nothing_listening_names_supabase_url(
    unused_tcp_port: int, metrics: Metrics, tmp_path: Path
) -> None:
    settings = settings_for(f"http://127.0.0.1:{unused_tcp_port}", tmp_path)
    with pytest.raises(ConfigError) as caught:
        await make_storage(settings, metrics).start()
    assert caught.value.variable == "SUPABASE_URL"


async def test_start_against_a_server_without_the_storage_api_names_supabase_url(
    storage_server: SupabaseStorageServer, metrics: Metrics, tmp_path: Path
) -> None:
    """A URL with an extra path answers 404 to every Storage route."""
    settings = settings_for(f"{storage_server.url}/not-supabase", tmp_path)
    with pytest.raises(ConfigError) as caught:
        await make_storage(settings, metrics).start()
    assert caught.value.variable == "SUPABASE_URL"
