"""How long the test's event loop stood still while a block of the test ran."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

#: The ticker's sleep: a gap far above it is time some callback held the loop.
TICK_SECONDS = 0.01


@contextlib.asynccontextmanager
async def loop_gaps() -> AsyncIterator[list[float]]:
    """Yield a list that fills with the time each short sleep really took until the block ends."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        while not done.is_set():
            started = time.monotonic()
            await asyncio.sleep(TICK_SECONDS)
            gaps.append(time.monotonic() - started)

    ticker = asyncio.get_running_loop().create_task(tick())
    try:
        yield gaps
    finally:
        done.set()
        await ticker
