"""Does a 20 MB job starve the bot's event loop? The thread path vs the process pool, each against idle.

One bot process per executor (``csvbot run`` on the embedded defaults, full telemetry,
in-process worker) against one Telegram emulator that lives in this process with the simulated
users, so the bot's process holds nothing but the bot:

* ``thread`` — ``CSV_EXECUTOR=thread`` (``asyncio.to_thread``, the old path);
* ``process`` — ``CSV_EXECUTOR=process`` (the child-process pool, the default).

Users send ``/help`` and ``/start`` open-loop at ``--rate`` per second for the whole run, each
reply timed from when it was due, while the bot process samples its own event-loop lag every
5 ms (how late a 5 ms sleep wakes). In each bot, ``--jobs`` rounds alternate a job window (from
the upload of a 20 MB CSV until its result document arrives) with an idle window of the same
length, one second after the result, so the idle baseline is the same bot under the same
commands at the same moment of the host's load, and each side pools ~1,300 lag samples at five
rounds: a single window of about a second holds ~300, whose p99 is its third-worst sample.

Printed per executor, idle and job side by side: lag p50/p99/max and command p50/p99 over all
rounds' windows, the cores used by this process (users and emulator), the bot and the bot's
children (the CSV pool), the job side's lag p99 as a ratio of the idle side's, and the median of
the rounds' own ratios.

Usage: ``.venv/bin/python bench/csv_pool_bench.py [--size-mb 19] [--rate 20] [--jobs 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.005
# Between a result and the next window: the job's last bookkeeping (directory removal, metrics).
SETTLE_SECONDS = 1.0


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


def _within(points: list[tuple[float, float]], windows: list[tuple[float, float]]) -> list[float]:
    return [value for t, value in points if any(start <= t <= end for start, end in windows)]


async def _phase(
    executor: str, emulator: Any, data: bytes, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """One bot with ``executor``: ``args.jobs`` rounds of a job window then an idle one as long."""
    from simulate.driver import ChatWatcher
    from simulate.saturation import DRIVER, CpuMeter

    phase_dir = workdir / executor
    phase_dir.mkdir()
    ready = phase_dir / "ready"
    samples_file = phase_dir / "samples.json"
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
    users = [emulator.create_user(f"{executor}{i}").id for i in range(50)]
    while not ready.exists():  # noqa: ASYNC110 - another process writes the file
        await asyncio.sleep(0.1)
    # Warm up: a few users once, so the first measured replies are not the bot's first ever.
    for user in users[1:6]:
        sent = emulator.send_text(user, "/start")
        await watcher.wait(user, lambda e, s=sent.seq: e.seq > s, 30)

    replies: list[tuple[float, float]] = []  # (when due, latency)
    rng = random.Random(7)
    running = True

    async def command(user: int, due: float) -> None:
        sent = emulator.send_text(user, rng.choice(("/help", "/start")))
        reply = await watcher.wait(user, lambda e: e.seq > sent.seq, 30)
        replies.append((due, time.monotonic() - due if reply is not None else 30.0))

    async def load() -> None:
        tasks: set[asyncio.Task[None]] = set()
        idle = list(users[1:])
        next_at = time.monotonic()
        while running:
            next_at += rng.expovariate(args.rate)
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

    driving = asyncio.get_running_loop().create_task(load())
    job_windows: list[tuple[float, float]] = []
    idle_windows: list[tuple[float, float]] = []
    # Cores used per window by this process (users and emulator), the bot and its CSV children.
    meter = CpuMeter({DRIVER: os.getpid(), "bot": proc.pid})
    core_seconds: dict[str, Counter[str]] = {"job": Counter(), "idle": Counter()}

    def measured(side: str, window: tuple[float, float]) -> None:
        for role, cores in meter.stop().items():
            core_seconds[side][role] += cores * (window[1] - window[0])

    try:
        await asyncio.sleep(2.0)  # the pool's children are up; the loop is quiet again
        uploader = users[0]
        for _ in range(args.jobs):
            meter.start()
            started = time.monotonic()
            sent = await emulator.send_document(uploader, data, "big.csv", mime_type="text/csv")
            final = await watcher.wait(
                uploader,
                lambda e, s=sent.seq: e.seq > s and (bool(e.caption) or "could not" in e.content),
                300,
            )
            if final is None or final.document is None:
                raise SystemExit(f"the job failed: {final.content if final else 'no answer in 300 s'}")
            ended = time.monotonic()
            job_windows.append((started, ended))
            measured("job", job_windows[-1])
            await asyncio.sleep(SETTLE_SECONDS)
            meter.start()
            idle_start = time.monotonic()
            await asyncio.sleep(ended - started)
            idle_windows.append((idle_start, time.monotonic()))
            measured("idle", idle_windows[-1])
    finally:
        running = False
        await driving
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
    logs = Path(tempfile.gettempdir()) / "csv_pool_bench-logs"
    logs.mkdir(exist_ok=True)
    (logs / f"{executor}.log").write_bytes((phase_dir / "csvbot.log").read_bytes())
    samples = [(t, lag) for t, lag in json.loads(samples_file.read_text())]

    def side(windows: list[tuple[float, float]], name: str | None = None) -> dict[str, Any]:
        lags, latencies = _within(samples, windows), _within(replies, windows)
        seconds = sum(end - start for start, end in windows)
        return {
            "seconds": seconds,
            "cores": {
                label: core_seconds[name][role] / seconds if name else float("nan")
                for label, role in (("driver", DRIVER), ("bot", "bot"), ("children", "bot children"))
            },
            "lag_samples": len(lags),
            "lag_p50_ms": _pct(lags, 0.50) * 1000,
            "lag_p99_ms": _pct(lags, 0.99) * 1000,
            "lag_max_ms": max(lags) * 1000 if lags else float("nan"),
            "commands": len(latencies),
            "cmd_p50_ms": _pct(latencies, 0.50) * 1000,
            "cmd_p99_ms": _pct(latencies, 0.99) * 1000,
        }

    rounds = [
        side([job])["lag_p99_ms"] / side([idle])["lag_p99_ms"]
        for job, idle in zip(job_windows, idle_windows, strict=True)
    ]
    return {
        "executor": executor,
        "job_seconds": [end - start for start, end in job_windows],
        "idle": side(idle_windows, "idle"),
        "job": side(job_windows, "job"),
        "round_ratios": rounds,
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
            for executor in args.executors.split(","):
                print(f"{executor}: {args.jobs} jobs …", file=sys.stderr, flush=True)
                rows.append(await _phase(executor, emulator, data, args, workdir))
        finally:
            await emulator.stop()
    print(
        f"\n{len(data) / MIB:.1f} MB job x {args.jobs} per executor, commands at {args.rate:g}/s, "
        f"{os.cpu_count()} cores; bot in its own process, emulator and users in this one; "
        f"each job window followed by an idle window as long"
    )
    print(
        f"{'executor':<8} {'side':<5} {'seconds':>7} {'samples':>7} {'lag p50':>8} {'lag p99':>8} "
        f"{'lag max':>8} {'cmds':>5} {'cmd p50':>8} {'cmd p99':>8}  cores: driver / bot / CSV children"
    )
    for r in rows:
        for name in ("idle", "job"):
            m = r[name]
            print(
                f"{r['executor']:<8} {name:<5} {m['seconds']:>6.1f}s {m['lag_samples']:>7} "
                f"{m['lag_p50_ms']:>6.2f}ms {m['lag_p99_ms']:>6.1f}ms {m['lag_max_ms']:>6.0f}ms "
                f"{m['commands']:>5} {m['cmd_p50_ms']:>6.0f}ms {m['cmd_p99_ms']:>6.0f}ms  "
                f"{m['cores']['driver']:.2f} / {m['cores']['bot']:.2f} / {m['cores']['children']:.2f}"
            )
    print("\nlag p99 during the jobs over idle, all rounds pooled (target: within 2x), and per round")
    for r in rows:
        pooled = r["job"]["lag_p99_ms"] / r["idle"]["lag_p99_ms"]
        per_round = ", ".join(f"{ratio:.2f}" for ratio in r["round_ratios"])
        jobs = ", ".join(f"{seconds:.1f}" for seconds in r["job_seconds"])
        print(
            f"{r['executor']:<8} pooled {pooled:.2f}x; rounds {per_round} (median "
            f"{statistics.median(r['round_ratios']):.2f}); jobs took {jobs} s; "
            f"command p99 during jobs {r['job']['cmd_p99_ms']:.0f} ms (target < 250)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))  # noqa: ASYNC240 - at the end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Just under Telegram's 20 MB bot download limit (the emulator enforces it).
    parser.add_argument("--size-mb", type=float, default=19.0, help="MiB")
    parser.add_argument("--rate", type=float, default=20.0, help="commands per second, the whole run")
    parser.add_argument("--jobs", type=int, default=5, help="job windows per executor, each with an idle one")
    parser.add_argument("--executors", default="thread,process")
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
