"""The storage contract, run against both backends (local folder; Supabase via the test server)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from prometheus_client import CollectorRegistry

from service.errors import StorageNotFoundError, StorageRejectedError
from service.storage import Storage, cleaned_key, input_key, profile_key
from telemetry.metrics import allowed_values_for
from tests.unit.storage.support import outcomes, sample

CSV = b"name,age\nAda,36\nGrace,45\n"


async def fetch(url: str) -> bytes:
    """Follow a signed URL without credentials: http(s) for Supabase, file:// for local."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(url2pathname(parts.path)).read_bytes()  # noqa: ASYNC240 - a test's small read
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.content


async def test_uploaded_bytes_download_identically_into_dest_dir(storage: Storage, tmp_path: Path) -> None:
    key = input_key(42, "job-1")
    await storage.upload_bytes(key, CSV, "text/csv")
    dest = tmp_path / "scratch"
    path = await storage.download_to_file(key, dest)
    assert path.parent == dest
    assert path.name.endswith("input.csv")
    assert path.read_bytes() == CSV
    assert [p.name for p in dest.iterdir()] == [path.name]  # no temporary file left beside it


async def test_upload_replaces_an_existing_object(storage: Storage, tmp_path: Path) -> None:
    key = cleaned_key(42, "job-1")
    await storage.upload_bytes(key, b"old\n", "text/csv")
    await storage.upload_bytes(key, b"new,longer\n", "text/csv")
    assert (await storage.download_to_file(key, tmp_path)).read_bytes() == b"new,longer\n"


async def test_upload_file_round_trips_a_multi_megabyte_file(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    body = os.urandom(3 * 1024 * 1024 + 17)
    source.write_bytes(body)
    key = input_key(7, "big")
    await storage.upload_file(key, source, "text/csv")
    assert (await storage.download_to_file(key, tmp_path / "out")).read_bytes() == body


async def test_missing_object_is_not_found_and_leaves_dest_dir_empty(
    storage: Storage, tmp_path: Path
) -> None:
    dest = tmp_path / "scratch"
    dest.mkdir()
    with pytest.raises(StorageNotFoundError):
        await storage.download_to_file(input_key(1, "never-uploaded"), dest)
    assert list(dest.iterdir()) == []


async def test_delete_removes_the_object_and_is_idempotent(storage: Storage, tmp_path: Path) -> None:
    key = profile_key(5, "job-9")
    await storage.upload_bytes(key, b"{}", "application/json")
    await storage.delete(key)
    await storage.delete(key)  # deleting a missing object is not an error
    with pytest.raises(StorageNotFoundError):
        await storage.download_to_file(key, tmp_path)


async def test_signed_url_fetches_the_object_without_credentials(storage: Storage) -> None:
    key = cleaned_key(3, "job-2")
    await storage.upload_bytes(key, CSV, "text/csv")
    url = await storage.signed_url(key, expires_in_seconds=60)
    assert await fetch(url) == CSV


async def test_signed_url_of_a_missing_object_is_not_found(storage: Storage) -> None:
    with pytest.raises(StorageNotFoundError):
        await storage.signed_url(cleaned_key(3, "nothing"), expires_in_seconds=60)


@pytest.mark.parametrize(
    "bad_key",
    [
        "../escape.csv",
        "users/1/../../escape.csv",
        "/etc/passwd",
        "users//1",
        "users/1/",
        "a b.csv",
        ".hidden",
        "",
    ],
)
async def test_unsafe_keys_are_rejected_before_any_io(
    storage: Storage, registry: CollectorRegistry, tmp_path: Path, bad_key: str
) -> None:
    with pytest.raises(StorageRejectedError):
        await storage.upload_bytes(bad_key, b"x", "text/plain")
    assert outcomes(registry, "upload", "storage_rejected") == 1
    assert not (tmp_path / "escape.csv").exists()


async def test_health_probe_passes_on_a_working_backend(
    storage: Storage, registry: CollectorRegistry
) -> None:
    await storage.health()
    assert outcomes(registry, "health", "ok") == 1


async def test_each_call_is_measured_with_operation_outcome_and_bytes(
    storage: Storage, registry: CollectorRegistry, tmp_path: Path
) -> None:
    key = input_key(8, "job-m")
    await storage.upload_bytes(key, CSV, "text/csv")
    await storage.download_to_file(key, tmp_path)
    with pytest.raises(StorageNotFoundError):
        await storage.download_to_file(input_key(8, "missing"), tmp_path)
    assert outcomes(registry, "upload", "ok") == 1
    assert outcomes(registry, "download", "ok") == 1
    assert outcomes(registry, "download", "storage_not_found") == 1
    assert sample(registry, "csvbot_storage_transferred_bytes_total", direction="sent") == len(CSV)
    assert sample(registry, "csvbot_storage_transferred_bytes_total", direction="received") == len(CSV)
    assert sample(registry, "csvbot_errors_total", component="storage", kind="storage_not_found") == 1
    assert sample(registry, "csvbot_storage_retries_total", operation="download") == 0


async def test_every_storage_label_value_is_declared(
    storage: Storage, registry: CollectorRegistry, tmp_path: Path
) -> None:
    """After a mix of calls the storage series use only the closed label sets."""
    key = input_key(8, "labels")
    await storage.upload_bytes(key, CSV, "text/csv")
    await storage.signed_url(key, 30)
    with pytest.raises(StorageRejectedError):
        await storage.delete("../nope")
    for family in registry.collect():
        if not family.name.startswith("csvbot_storage"):
            continue
        for s in family.samples:
            for label, value in s.labels.items():
                allowed = allowed_values_for(family.name, label)
                if label != "le" and allowed is not None:
                    assert value in allowed, (family.name, label, value)


async def test_each_operation_opens_one_span_with_key_size_attempts_and_outcome(
    storage: Storage, spans: tuple[object, InMemorySpanExporter], tmp_path: Path
) -> None:
    exporter = spans[1]
    key = input_key(9, "traced")
    await storage.upload_bytes(key, CSV, "text/csv")
    with pytest.raises(StorageNotFoundError):
        await storage.download_to_file(input_key(9, "absent"), tmp_path)
    finished = {s.name: s for s in exporter.get_finished_spans()}
    upload = finished["storage.upload"]
    assert upload.attributes is not None
    assert upload.attributes["storage.key"] == key
    assert upload.attributes["storage.size_bytes"] == len(CSV)
    assert upload.attributes["storage.attempts"] == 1
    assert upload.attributes["storage.outcome"] == "ok"
    assert upload.status.status_code != StatusCode.ERROR
    failed = finished["storage.download"]
    assert failed.attributes is not None
    assert failed.attributes["storage.outcome"] == "storage_not_found"
    assert failed.status.status_code == StatusCode.ERROR
