"""Broker tests run against the real Redis, on a database index of their own (claimed like the
end-to-end tests claim theirs), behind a TCP proxy that a test can take down and bring back."""

from __future__ import annotations

from tests.integration.e2e.conftest import e2e_redis_url

__all__ = ["e2e_redis_url"]
