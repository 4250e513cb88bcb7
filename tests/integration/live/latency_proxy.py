"""A loopback TCP proxy that delays every byte by a fixed one-way latency, in both directions.

Why the live tests need it: in production the database is Supabase's session pooler, a network
hop away, so every query holds its session for at least one round trip. On loopback a query
holds it for about a millisecond, one session then serves ~1,000 queries a second, and no session
limit is ever felt. Putting the real PostgreSQL behind this proxy gives the service a remote
database's round-trip time while everything else (the pool, asyncpg, the SQL) stays real.

Each direction is a delay line: bytes are read as soon as they arrive and written ``delay``
seconds later, in order, so the proxy adds latency without limiting throughput.
"""

from __future__ import annotations

import asyncio
import contextlib

_CHUNK = 64 * 1024


class LatencyProxy:
    """``127.0.0.1:<port>`` → ``upstream``, each direction delayed by ``one_way_delay`` seconds."""

    def __init__(self, upstream_host: str, upstream_port: int, *, one_way_delay: float) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.one_way_delay = one_way_delay
        self.port = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        # A plain callback that starts a task of our own: :meth:`close` may cancel it (asyncio's
        # streams log an error when a task they started for a coroutine callback is cancelled).
        task = asyncio.get_running_loop().create_task(self._relay(client_r, client_w))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        except OSError:
            client_w.close()
            return
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._delay_line(client_r, upstream_w))
                tg.create_task(self._delay_line(upstream_r, client_w))
        except* (ConnectionError, OSError):
            pass  # one side went away: the other is closed below, as a real network would
        finally:
            for writer in (client_w, upstream_w):
                writer.close()

    async def _delay_line(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def receive() -> None:
            try:
                while data := await reader.read(_CHUNK):
                    queue.put_nowait((loop.time() + self.one_way_delay, data))
            finally:  # end of stream, or the connection broke: either way the line ends
                queue.put_nowait((loop.time() + self.one_way_delay, b""))

        receiving = asyncio.create_task(receive())
        try:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:  # the sender closed: pass the end of stream on, after the delay
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        finally:
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await receiving
