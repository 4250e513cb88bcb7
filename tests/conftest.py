"""Fixtures every test may use: fresh metric registries and the addresses of real services.

``scripts/test`` starts PostgreSQL and Redis and exports their addresses; run directly, the tests
fall back to the usual local ports. A configured service that cannot be reached fails the test —
the suite never silently skips what it was asked to check.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from telemetry.metrics import Metrics


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> Metrics:
    return Metrics(registry, service="bot", process_metrics=False)


@pytest.fixture(scope="session")
def pg_server_dsn() -> str:
    return os.environ.get("CSVBOT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("CSVBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """Tests that touch logging leave the root logger as they found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
