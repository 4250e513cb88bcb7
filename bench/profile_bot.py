"""``csvbot run`` under pyinstrument's sampler: ``python bench/profile_bot.py OUT.txt``.

Settings come from the environment as for ``csvbot run``. Sampling starts on SIGUSR1 (so the
profile holds the bot at work, not its imports and start-up) and, when the bot exits on SIGTERM,
the text report of the event-loop thread — CPU time, the loop's idle waits left out — is written
to ``OUT.txt``, and a flat one (each function's own time, highest first) beside it, to
``OUT.flat.txt``: the tree says which path is slow, the flat list which frames to make cheaper.
The session itself goes to ``OUT.pyisession`` for other views (``pyinstrument --load``).
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
            flat = profiler.output_text(unicode=False, color=False, flat=True, show_all=True)
            out.with_suffix(".flat.txt").write_text(flat)
            if profiler.last_session is not None:
                profiler.last_session.save(str(out.with_suffix(".pyisession")))
