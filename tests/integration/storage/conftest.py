"""Fixtures of the storage deadline tests: the Supabase Storage test server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulators.supabase_storage import SupabaseStorageServer
from tests.unit.storage.support import KEY


@pytest.fixture
async def storage_server() -> AsyncIterator[SupabaseStorageServer]:
    async with SupabaseStorageServer(key=KEY) as server:
        yield server
