"""``csvbot run`` under pyinstrument's sampler: ``python bench/profile_bot.py OUT.txt``.

Settings come from the environment as for ``csvbot run``. Sampling starts on SIGUSR1 (so the
profile holds the bot at work, not its imports and start-up) and, when the bot exits on SIGTERM,
the text report of the event-loop thread — CPU time, the loop's idle waits left out — is written
to ``OUT.txt``.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyinstrument import Profiler

from service.cli import main

if __name__ == "__main__":
    out = Path(sys.argv[1])
    profiler = Profiler(interval=0.002, async_mode="disabled")

    def start(signum: int, frame: FrameType | None) -> None:
        if not profiler.is_running:
            profiler.start()

    signal.signal(signal.SIGUSR1, start)
    try:
        main(["run"])
    finally:
        if profiler.is_running:
            profiler.stop()
            out.write_text(profiler.output_text(unicode=False, color=False))
