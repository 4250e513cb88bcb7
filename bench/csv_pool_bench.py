"""Does a 20 MB job starve the bot's event loop? Idle vs the thread path vs the process pool.

Three phases in one run, each with a fresh bot process (``csvbot run`` on the embedded defaults,
full telemetry, in-process worker) against one Telegram emulator that lives in this process with
the simulated users, so the bot's process holds nothing but the bot:

* ``idle`` — commands only;
* ``thread`` — the same commands while a 20 MB CSV is uploaded and processed with
  ``CSV_EXECUTOR=thread`` (``asyncio.to_thread``, the old path);
* ``process`` — the same with ``CSV_EXECUTOR=process`` (the child-process pool).

During each window (from the upload until its result document arrives; a fixed window when idle)
users send ``/help`` and ``/start`` open-loop at ``--rate`` per second and each reply is timed,
while the bot process samples its own event-loop lag every 5 ms (how late a 5 ms sleep wakes).
Printed side by side: lag p50/p99/max, command p50/p99, and each phase's lag p99 as a ratio of
the idle one.

Usage: ``.venv/bin/python bench/csv_pool_bench.py [--size-mb 20] [--rate 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.005
IDLE_WINDOW_SECONDS = 8.0


# --- the bot process ---------------------------------------------------------------------------


async def _bot_main(args: argparse.Namespace) -> None:
    from pydantic import SecretStr

    from service.app import BotApp
    from service.config import load_settings
    from service.runtime import Telemetry

    work = Path(args.workdir)
    settings = load_settings({}, env_file=None).model_copy(
        update={
            "bot_token": SecretStr(args.token),
            "telegram_api_url": args.api_url,
            "sqlite_path": work / "db.sqlite3",
            "storage_dir": work / "storage",
            "log_file": work / "csvbot.log",
            "csv_executor": args.executor,
            "max_upload_bytes": 64 * MIB,
            "flood_max_updates": 100_000,
        }
    )
    telemetry = Telemetry.start(settings, service="bot", serve_metrics=False, log_to_stderr=False)
    app = BotApp(settings, telemetry)
    await app.start()
    serving = asyncio.get_running_loop().create_task(app.serve())
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    Path(args.ready).write_text("ready")  # noqa: ASYNC240 - once, before measuring
    while not stop.is_set():
        started = time.monotonic()
        await asyncio.sleep(SAMPLE_SECONDS)
        samples.append((started, time.monotonic() - started - SAMPLE_SECONDS))
    Path(args.samples).write_text(json.dumps(samples))  # noqa: ASYNC240 - after measuring
    serving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await serving
    await app.stop()
    await telemetry.stop()


# --- the driver --------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.5) - 1))]


async def _phase(name: str, emulator: Any, data: bytes | None, rate: float, workdir: Path) -> dict[str, Any]:
    from simulate.driver import ChatWatcher

    phase_dir = workdir / name
    phase_dir.mkdir()
    ready = phase_dir / "ready"
    samples_file = phase_dir / "samples.json"
    executor = "thread" if name == "thread" else "process"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--bot",
        "--executor",
        executor,
        "--token",
        emulator.token,
        "--api-url",
        emulator.url,
        "--workdir",
        str(phase_dir),
        "--ready",
        str(ready),
        "--samples",
        str(samples_file),
    )
    watcher = ChatWatcher(emulator)
    users = [emulator.create_user(f"{name}{i}").id for i in range(50)]
    while not ready.exists():  # noqa: ASYNC110 - another process writes the file
        await asyncio.sleep(0.1)
    # Warm up: every user once, so the first measured replies are not the bot's first ever.
    for user in users[:5]:
        sent = emulator.send_text(user, "/start")
        await watcher.wait(user, lambda e, s=sent.seq: e.seq > s, 30)
    await asyncio.sleep(2.0)  # the pool's children are up; the loop is quiet again

    latencies: list[float] = []
    rng = random.Random(7)
    running = True

    async def command(user: int, due: float) -> None:
        sent = emulator.send_text(user, rng.choice(("/help", "/start")))
        reply = await watcher.wait(user, lambda e: e.seq > sent.seq, 30)
        latencies.append(time.monotonic() - due if reply is not None else 30.0)

    async def load() -> None:
        tasks: set[asyncio.Task[None]] = set()
        idle = list(users[1:])
        next_at = time.monotonic()
        while running:
            next_at += rng.expovariate(rate)
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if not idle:
                continue
            user = idle.pop(0)
            task = asyncio.get_running_loop().create_task(command(user, next_at))
            task.add_done_callback(lambda _, u=user: idle.append(u))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=30)

    window_start = time.monotonic()
    driving = asyncio.get_running_loop().create_task(load())
    result_seconds = None
    if data is None:
        await asyncio.sleep(IDLE_WINDOW_SECONDS)
    else:
        uploader = users[0]
        sent = await emulator.send_document(uploader, data, "big.csv", mime_type="text/csv")
        final = await watcher.wait(
            uploader, lambda e: e.seq > sent.seq and (bool(e.caption) or "could not" in e.content), 300
        )
        if final is not None and final.document is None:
            raise SystemExit(f"the job failed: {final.content}")
        result_seconds = time.monotonic() - window_start if final is not None else None
    window_end = time.monotonic()
    running = False
    await driving
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 60)
    logs = Path(tempfile.gettempdir()) / "csv_pool_bench-logs"
    logs.mkdir(exist_ok=True)
    (logs / f"{name}.log").write_bytes((phase_dir / "csvbot.log").read_bytes())
    lags = [lag for t, lag in json.loads(samples_file.read_text()) if window_start <= t <= window_end]
    return {
        "phase": name,
        "window_s": window_end - window_start,
        "result_s": result_seconds,
        "lag_p50_ms": _pct(lags, 0.50) * 1000,
        "lag_p99_ms": _pct(lags, 0.99) * 1000,
        "lag_max_ms": max(lags) * 1000 if lags else float("nan"),
        "commands": len(latencies),
        "cmd_p50_ms": _pct(latencies, 0.50) * 1000,
        "cmd_p99_ms": _pct(latencies, 0.99) * 1000,
    }


async def _driver(args: argparse.Namespace) -> None:
    from csv_bench import generate

    from emulators.telegram import TelegramEmulator

    with tempfile.TemporaryDirectory(prefix="csvbot-pool-bench-") as tmp:
        workdir = Path(tmp)
        source = workdir / "big.csv"
        generate(source, int(args.size_mb * MIB))
        data = source.read_bytes()
        emulator = TelegramEmulator(seed=1, spill_dir=workdir / "telegram")
        await emulator.start()
        try:
            rows = []
            for name in args.phases.split(","):
                print(f"phase {name} …", file=sys.stderr, flush=True)
                job = None if name == "idle" else data
                rows.append(await _phase(name, emulator, job, args.rate, workdir))
        finally:
            await emulator.stop()
    idle = next((r for r in rows if r["phase"] == "idle"), None)
    print(
        f"\n{len(data) / MIB:.1f} MB job, commands at {args.rate:g}/s, {os.cpu_count()} cores; "
        "bot in its own process, emulator and users in this one"
    )
    header = (
        f"{'phase':<8} {'window':>7} {'result':>7} {'lag p50':>8} {'lag p99':>8} {'lag max':>8} "
        f"{'p99/idle':>8} {'cmds':>5} {'cmd p50':>8} {'cmd p99':>8}"
    )
    print(header)
    for r in rows:
        ratio = r["lag_p99_ms"] / idle["lag_p99_ms"] if idle else float("nan")
        result = f"{r['result_s']:.1f}s" if r["result_s"] is not None else "-"
        print(
            f"{r['phase']:<8} {r['window_s']:>6.1f}s {result:>7} {r['lag_p50_ms']:>6.2f}ms "
            f"{r['lag_p99_ms']:>6.1f}ms {r['lag_max_ms']:>6.0f}ms {ratio:>7.2f}× {r['commands']:>5} "
            f"{r['cmd_p50_ms']:>6.0f}ms {r['cmd_p99_ms']:>6.0f}ms"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))  # noqa: ASYNC240 - at the end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Just under Telegram's 20 MB bot download limit (the emulator enforces it).
    parser.add_argument("--size-mb", type=float, default=19.0, help="MiB")
    parser.add_argument("--rate", type=float, default=20.0, help="commands per second during the window")
    parser.add_argument("--phases", default="idle,thread,process")
    parser.add_argument("--json", default=None, help="also write the rows here")
    # The bot process's own arguments.
    parser.add_argument("--bot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--executor", default="process", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    parser.add_argument("--samples", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(_bot_main(args) if args.bot else _driver(args))


if __name__ == "__main__":
    main()
