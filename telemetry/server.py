"""The operator's HTTP endpoint: ``/metrics``, ``/healthz`` and ``/readyz``.

It runs on its own small threaded HTTP server, not on the asyncio loop, on purpose: rendering
~2,000 series takes milliseconds of CPU per scrape, which would show up as event-loop lag, and a
blocked loop must still be scrapable — that is exactly when operators need the numbers.

``/metrics`` negotiates the format like ``prometheus_client`` does: OpenMetrics (with exemplars)
when the scraper asks for it, the classic text format otherwise. ``/healthz`` says the process is
alive; ``/readyz`` says every registered dependency check passed (503 with the failing ones).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

__all__ = ["HealthState", "MetricsServer", "start_metrics_server"]

StartResponse = Callable[..., Any]


@dataclass
class HealthState:
    """Named readiness flags, set from the service's own code, read by ``/readyz``."""

    _ready: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, component: str, ready: bool) -> None:
        with self._lock:
            self._ready[component] = ready

    def snapshot(self) -> dict[str, bool]:
        with self._lock:
            return dict(self._ready)

    @property
    def ready(self) -> bool:
        snap = self.snapshot()
        return bool(snap) and all(snap.values())


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _ThreadingServerV6(_ThreadingServer):
    """For IPv6 hosts such as ``::`` (Railway's private network is IPv6)."""

    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every second would flood stderr; request logs are not useful here."""


class MetricsServer:
    """A running endpoint; ``port`` is the bound port (useful when asked for port 0)."""

    def __init__(self, registry: CollectorRegistry, health: HealthState, host: str, port: int) -> None:
        self.registry = registry
        self.health = health
        self._metrics_app = make_wsgi_app(registry)
        server_class = _ThreadingServerV6 if ":" in host else _ThreadingServer
        self._server = make_server(
            host, port, self._app, server_class=server_class, handler_class=_QuietHandler
        )
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="csvbot-metrics-http", daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            body: Iterable[bytes] = self._metrics_app(environ, start_response)
            return body
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            checks = self.health.snapshot()
            ok = bool(checks) and all(checks.values())
            status = "200 OK" if ok else "503 Service Unavailable"
            return _json(start_response, status, {"ready": ok, "checks": checks})
        return _json(start_response, "404 Not Found", {"error": "not found"})


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def start_metrics_server(
    registry: CollectorRegistry,
    *,
    host: str = "127.0.0.1",
    port: int = 9464,
    health: HealthState | None = None,
) -> MetricsServer:
    """Bind and start the endpoint in a daemon thread. ``port=0`` picks a free port."""
    return MetricsServer(registry, health or HealthState(), host, port).start()
