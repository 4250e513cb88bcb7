"""/metrics, /healthz and /readyz answer from a thread, even while the event loop is blocked."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry

from telemetry.metrics import Metrics
from telemetry.server import HealthState, start_metrics_server


def test_endpoints_report_metrics_health_and_readiness(registry: CollectorRegistry, metrics: Metrics) -> None:
    metrics.jobs.labels("ok").inc()
    health = HealthState()
    server = start_metrics_server(registry, host="127.0.0.1", port=0, health=health)
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            body = client.get("/metrics").text
            assert 'csvbot_jobs_total{outcome="ok"} 1.0' in body
            assert client.get("/healthz").status_code == 200
            # Not ready until every registered check has passed.
            assert client.get("/readyz").status_code == 503
            health.set("database", True)
            health.set("storage", False)
            not_ready = client.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["checks"] == {"database": True, "storage": False}
            health.set("storage", True)
            assert client.get("/readyz").status_code == 200
            assert client.get("/nope").status_code == 404
    finally:
        server.stop()


def test_openmetrics_negotiation_exposes_exemplars(registry: CollectorRegistry, metrics: Metrics) -> None:
    metrics.job_duration.labels("ok").observe(0.3, exemplar={"trace_id": "ab" * 16})
    server = start_metrics_server(registry, host="127.0.0.1", port=0)
    try:
        text = httpx.get(
            f"{server.url}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
            timeout=5,
        ).text
        assert 'trace_id="' + "ab" * 16 + '"' in text
        classic = httpx.get(f"{server.url}/metrics", timeout=5).text
        assert "trace_id" not in classic
    finally:
        server.stop()


def test_an_ipv6_host_is_served_too(registry: CollectorRegistry, metrics: Metrics) -> None:
    """METRICS_HOST=:: (Railway's private network) binds an IPv6 socket."""
    server = start_metrics_server(registry, host="::1", port=0)
    try:
        assert server.url.startswith("http://[::1]:")
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        server.stop()
