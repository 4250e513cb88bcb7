"""A Supabase Storage test server: the REST API the official client uses, plus fault injection.

Start it on 127.0.0.1 on a free port and point ``SUPABASE_URL`` at :attr:`SupabaseStorageServer.url`
with ``SUPABASE_KEY`` = its ``key``; supabase-py's storage client then runs unchanged against it::

    async with SupabaseStorageServer(key="test-key") as server:
        server.faults.add(Fault.hang(operations={"download"}, count=1))
        ...  # use the service's storage layer with supabase_url=server.url
        assert server.request_count("download", status="hang") == 1

Routes (under ``/storage/v1``): ``GET/POST /bucket``, ``GET/DELETE /bucket/{id}``,
``POST /bucket/{id}/empty``, ``POST|PUT /object/{bucket}/{name}`` (upload; ``x-upsert: true``
replaces), ``GET /object/{bucket}/{name}`` and ``/object/authenticated/…`` (download),
``GET /object/info/…``, ``POST /object/list/{bucket}``, ``DELETE /object/{bucket}``
(``{"prefixes": [...]}``), ``POST /object/sign/{bucket}/{name}`` and the signed download
``GET /object/sign/{bucket}/{name}?token=…``. Every route but the signed download needs
``Authorization: Bearer <key>`` (a Storage ``AccessDenied`` error otherwise) and ``apikey: <key>``
(checked by Supabase's gateway: HTTP 401 ``{"message": …}`` otherwise).

Faults (:mod:`emulators.supabase_storage.faults`) come from Python
(``server.faults.add(Fault.trickle(...))``) or over HTTP, for a server in another process:

* ``POST /_faults`` with ``{"kind": "hang"|"latency"|"status"|"trickle"|"reset"|"truncate",
  "operations": [...], "count": n, "probability": p, "latency": {"fixed": s} or
  {"median": s, "p99": s}, "status": 503, "chunk_bytes": 1, "interval_seconds": 0.1,
  "after_bytes": n}`` — adds one fault;
* ``DELETE /_faults`` — clears them; ``GET /_stats`` — request counts by operation and status
  (``"hang"`` for requests never answered), fired faults, open connections, object count.

The control routes need no key: the server only ever listens on 127.0.0.1 and is a test tool.
Objects spill to a temporary directory (see :mod:`~emulators.supabase_storage.objects`),
so thousands of objects fit; ``max_object_bytes`` (default 512 MiB) bounds one object.

Run standalone: ``python -m emulators.supabase_storage --port 54321 --key KEY`` (:mod:`.__main__`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import signal
import socket
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from emulators.supabase_storage.faults import Fault, FaultPlan
from emulators.supabase_storage.objects import BucketRecord, ObjectStore
from emulators.supabase_storage.routes import StorageApi
from emulators.supabase_storage.wire import (
    Reply,
    error_reply,
    fault_status_reply,
    json_reply,
    send_reply,
)

__all__ = ["Fault", "SupabaseStorageServer"]

Handler = Callable[[web.Request], Awaitable[Reply]]
_BODY_FAULTS = frozenset({"trickle", "reset", "truncate"})
_PREFIX = "/storage/v1"


class SupabaseStorageServer:
    """An in-process Supabase Storage on 127.0.0.1. ``port=0`` picks a free port."""

    def __init__(
        self,
        key: str = "csvbot-test-service-key",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        max_object_bytes: int = 512 * 1024 * 1024,
        data_dir: Path | None = None,
        buckets: tuple[str, ...] = (),
    ) -> None:
        self.key = key
        self._host = host
        self._port = port
        self._initial_buckets = buckets
        self._max_object_bytes = max_object_bytes
        self._data_dir = data_dir
        self.faults = FaultPlan(seed=seed)
        #: (operation, status) → requests answered; status is the HTTP code, or "hang".
        self.requests: Counter[tuple[str, str]] = Counter()
        self.store: ObjectStore | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> SupabaseStorageServer:
        if self._runner is not None:
            return self
        self.store = ObjectStore(max_object_bytes=self._max_object_bytes, root=self._data_dir)
        for bucket in self._initial_buckets:
            self.store.buckets[bucket] = BucketRecord(id=bucket)
        self._api = StorageApi(self.store, secrets.token_bytes(32))
        self._stopping = asyncio.Event()
        # handler_cancellation: a handler whose client went away is cancelled at once, so a hung
        # or trickling request ends (and its connection closes) when the client gives up.
        runner = web.AppRunner(self._app(), handler_cancellation=True, shutdown_timeout=2.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock, backlog=1024).start()
        self._runner = runner
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._stopping.set()  # releases hung requests
        await self._runner.cleanup()
        self._runner = None
        if self.store is not None:
            self.store.close()

    async def __aenter__(self) -> SupabaseStorageServer:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- what tests read ------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The project URL (``SUPABASE_URL``); Storage lives under ``/storage/v1``."""
        return f"http://{self._host}:{self._port}"

    @property
    def open_connections(self) -> int:
        """TCP connections from clients that are open right now."""
        if self._runner is None or self._runner.server is None:
            return 0
        return len(self._runner.server.connections)

    def request_count(self, operation: str | None = None, status: int | str | None = None) -> int:
        """Requests answered, optionally only for one operation and/or one status."""
        return sum(
            n
            for (op, st), n in self.requests.items()
            if (operation is None or op == operation) and (status is None or st == str(status))
        )

    def object_bytes(self, bucket: str, name: str) -> bytes | None:
        """The stored body of an object, or ``None`` (tests; reads the whole object)."""
        assert self.store is not None
        record = self.store.get(bucket, name)
        return None if record is None else self.store.read(record)

    def reset_counters(self) -> None:
        self.requests.clear()
        self.faults.fired.clear()

    # --- plumbing -------------------------------------------------------------------------

    def _app(self) -> web.Application:
        api = self._api
        app = web.Application(client_max_size=self._max_object_bytes + 1024 * 1024)
        p = _PREFIX
        route = self._route
        # Specific object routes first: aiohttp matches in registration order, and
        # "/object/{bucket}/{name}" would otherwise swallow "/object/list/{bucket}".
        app.router.add_get(f"{p}/bucket", route("list_buckets", api.list_buckets))
        app.router.add_post(f"{p}/bucket", route("create_bucket", api.create_bucket))
        app.router.add_get(f"{p}/bucket/{{bucket}}", route("get_bucket", api.get_bucket))
        app.router.add_delete(f"{p}/bucket/{{bucket}}", route("delete_bucket", api.delete_bucket))
        app.router.add_post(f"{p}/bucket/{{bucket}}/empty", route("empty_bucket", api.empty_bucket))
        app.router.add_post(f"{p}/object/list/{{bucket}}", route("list", api.list_objects))
        app.router.add_post(f"{p}/object/sign/{{bucket}}/{{name:.+}}", route("sign", api.sign))
        app.router.add_get(
            f"{p}/object/sign/{{bucket}}/{{name:.+}}",
            route("signed_download", api.signed_download, authenticated=False),
        )
        app.router.add_get(f"{p}/object/info/{{bucket}}/{{name:.+}}", route("info", api.info))
        app.router.add_get(
            f"{p}/object/authenticated/{{bucket}}/{{name:.+}}", route("download", api.download)
        )
        app.router.add_get(f"{p}/object/{{bucket}}/{{name:.+}}", route("download", api.download))
        app.router.add_post(f"{p}/object/{{bucket}}/{{name:.+}}", route("upload", api.upload))
        app.router.add_put(f"{p}/object/{{bucket}}/{{name:.+}}", route("update", api.update))
        app.router.add_delete(f"{p}/object/{{bucket}}", route("remove", api.remove))
        app.router.add_post("/_faults", self._control_add_fault)
        app.router.add_delete("/_faults", self._control_clear_faults)
        app.router.add_get("/_stats", self._control_stats)
        return app

    def _route(
        self, operation: str, handler: Handler, *, authenticated: bool = True
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            problem = self._auth_problem(request) if authenticated else None
            if problem is not None:
                return await self._answer(request, operation, problem, None)
            selection = self.faults.take(operation)
            if selection.delay_seconds > 0:
                await asyncio.sleep(selection.delay_seconds)
            failure = selection.failure
            if failure is not None and failure.kind == "hang":
                self.requests[(operation, "hang")] += 1
                await self._stopping.wait()  # or until the client leaves (handler cancelled)
                return await self._answer(request, operation, fault_status_reply(503), None, count=False)
            if failure is not None and failure.kind == "status":
                return await self._answer(request, operation, fault_status_reply(failure.status), None)
            reply = await handler(request)
            body_fault = failure if failure is not None and failure.kind in _BODY_FAULTS else None
            return await self._answer(request, operation, reply, body_fault)

        return serve

    async def _answer(
        self, request: web.Request, operation: str, reply: Reply, failure: Fault | None, *, count: bool = True
    ) -> web.StreamResponse:
        if count:
            self.requests[(operation, str(reply.status))] += 1
        return await send_reply(request, reply, failure)

    def _auth_problem(self, request: web.Request) -> Reply | None:
        if not _same(request.headers.get("apikey", ""), self.key):
            return json_reply({"message": "Invalid API key"}, status=401)
        authorization = request.headers.get("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not _same(token.strip(), self.key):
            return error_reply(403, "AccessDenied", "invalid signature", error="Unauthorized")
        return None

    async def _control_add_fault(self, request: web.Request) -> web.Response:
        try:
            fault = Fault.from_json(await request.json())
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        self.faults.add(fault)
        return web.json_response({"active": len(self.faults.active)})

    async def _control_clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return web.json_response({"active": 0})

    async def _control_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    def stats(self) -> dict[str, Any]:
        return {
            "requests": [
                {"operation": op, "status": st, "count": n} for (op, st), n in sorted(self.requests.items())
            ],
            "faults_fired": [
                {"operation": op, "kind": kind, "count": n}
                for (op, kind), n in sorted(self.faults.fired.items())
            ],
            "open_connections": self.open_connections,
            "objects": len(self.store.objects) if self.store else 0,
        }


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that also accepts non-ASCII input (compared as UTF-8)."""
    return secrets.compare_digest(given.encode(), expected.encode())


async def _serve(args: argparse.Namespace) -> None:
    server = SupabaseStorageServer(args.key, port=args.port, seed=args.seed, buckets=tuple(args.bucket or ()))
    async with server:
        print(f"supabase storage emulator listening on {server.url}", flush=True)
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, done.set)
        await done.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Supabase Storage test server (127.0.0.1 only)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--key", default="csvbot-test-service-key", help="the accepted service key")
    parser.add_argument("--seed", type=int, default=0, help="seed of random faults")
    parser.add_argument("--bucket", action="append", help="bucket to create at start (repeatable)")
    asyncio.run(_serve(parser.parse_args(argv)))
