"""The local-folder backend: atomic writes, a root that keys cannot leave, prompt cancellation."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from service.errors import StorageRejectedError, StorageTimeoutError, StorageUnavailableError
from service.storage import input_key
from telemetry.metrics import Metrics
from tests.unit.storage.support import make_storage, outcomes, settings_for


async def test_a_symlink_planted_in_the_folder_cannot_lead_outside(tmp_path: Path, metrics: Metrics) -> None:
    root, outside = tmp_path / "storage", tmp_path / "outside"
    outside.mkdir()
    async with make_storage(settings_for(None, root), metrics) as storage:
        (root / "users").symlink_to(outside, target_is_directory=True)
        with pytest.raises(StorageRejectedError):
            await storage.upload_bytes(input_key(1, "j"), b"data", "text/csv")
    assert list(outside.iterdir()) == []


async def test_upload_leaves_only_the_object_no_temporary_files(tmp_path: Path, metrics: Metrics) -> None:
    root = tmp_path / "storage"
    key = input_key(1, "j")
    async with make_storage(settings_for(None, root), metrics) as storage:
        await storage.upload_bytes(key, b"one", "text/csv")
        await storage.upload_bytes(key, b"two", "text/csv")
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    assert files == [key]
    assert (root / key).read_bytes() == b"two"


async def test_a_deadline_stops_a_local_copy_and_leaves_nothing_behind(
    tmp_path: Path, metrics: Metrics, registry: CollectorRegistry
) -> None:
    """The thread sees the cancel flag between chunks: no object, no temporary file later."""
    root = tmp_path / "storage"
    source = tmp_path / "large.csv"
    with source.open("wb") as out:
        out.truncate(64 * 1024 * 1024)  # sparse: cheap to create, 64 chunks to copy
    key = input_key(1, "slow")
    async with make_storage(settings_for(None, root, timeout=0.001), metrics) as storage:
        with pytest.raises(StorageTimeoutError):
            await storage.upload_file(key, source, "text/csv")
    leftovers: list[Path] = []
    for _ in range(200):  # the thread finishes its current chunk, then cleans up
        leftovers = [p for p in root.rglob("*") if p.is_file()]
        if not leftovers:
            break
        await asyncio.sleep(0.01)
    assert leftovers == []
    assert outcomes(registry, "upload_file", "storage_timeout") == 1


async def test_health_fails_when_the_folder_is_gone(tmp_path: Path, metrics: Metrics) -> None:
    root = tmp_path / "storage"
    async with make_storage(settings_for(None, root), metrics) as storage:
        await storage.health()
        os.rmdir(root)
        with pytest.raises(StorageUnavailableError):
            await storage.health()
