"""Logging benchmark: synchronous handlers vs the stock queue set-up vs csvbot's logging path.

    .venv/bin/python bench/logging_bench.py            # ~1.5 minutes on 2 cores

Three configurations write the same JSON records (message with two arguments, three ``extra``
fields) to a file and to a stream:

(a) ``sync``  — ``FileHandler`` + ``StreamHandler`` on the caller's thread, python-json-logger's
    stdlib-``json`` ``JsonFormatter``;
(b) ``stock`` — the launch report's fix: ``QueueListener(queue.Queue(-1), FileHandler,
    StreamHandler)`` + ``basicConfig(handlers=[QueueHandler(q)], level=INFO)``, same formatter;
(c) ``csvbot`` — ``telemetry.logging.setup_logging`` with metrics on.

The stream is ``/dev/null`` opened as a text file: real ``write``/``flush`` system calls, as for
stderr going to a pipe, without the cost of whatever reads the pipe (another process's CPU).

Each measurement runs in a fresh child process (one invocation of this script runs them all), so
that no configuration inherits another's heap, threads or logging tree:

* caller-thread CPU per call (``time.thread_time``) and total process CPU per record until the
  file holds every line (``time.process_time``), a burst of ``--records`` records, median of 3;
* asyncio event-loop lag p50/p99/max — how late a 1 ms ``asyncio.sleep`` wakes up, as
  ``telemetry/loop_lag.py`` measures it — while 4 tasks log at 2,000/s and 20,000/s, each task
  logging what it owes every 5 ms (bursts of 25 records at 20,000/s, like handlers that log a few
  lines each) or every 1 ms (a steadier stream). The tasks' ticks are spread over the period.
  "No logging" runs the same tasks with logging disabled. 3 interleaved runs of 2 s per cell,
  median of each statistic (lines written/logged are summed);
* RSS growth (peak minus before) during a 100,000-record burst into a stream that takes 1 ms per
  record; for (c) also a 200,000-record burst, to show that memory follows the queue size, not
  the burst size. (a) is left out: it would block the caller for 100 s;
* ``log.exception`` on the caller: caller-thread CPU per call in bursts of 100 (median of 20
  bursts, each written before the next), for an exception raised through 20 and 200 frames of
  distinct functions; and the process CPU per exception until on disk;
* event-loop lag during an error storm: the lag probe above while 4 tasks raise 2,000 exceptions/s
  through 40 frames and log each with ``log.exception``; "no logging" raises the same exceptions.

``--only cpu,lag,rss,exc,storm`` runs a subset.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import logging.handlers
import os
import queue
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from prometheus_client import CollectorRegistry
from pythonjsonlogger.json import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telemetry.logging import setup_logging  # noqa: E402
from telemetry.metrics import Metrics  # noqa: E402

CONFIGS = ("sync", "stock", "csvbot")
LABELS = {"sync": "(a) sync", "stock": "(b) stock queue", "csvbot": "(c) csvbot"}
#: (rate in records/s, how often each task logs what it owes). Every 5 ms: request handlers that
#: log a burst each (25 records per task per tick at 20,000/s). Every 1 ms: a steadier stream.
LAG_SCENARIOS: tuple[tuple[int, float], ...] = ((2_000, 0.005), (20_000, 0.005), (20_000, 0.001))
LAG_SECONDS = 2.0
LAG_REPEATS = 3
LAG_INTERVAL = 0.001
PRODUCER_TASKS = 4
BURST = 100_000
SLOW_SINK_SECONDS = 0.001
QUEUE_SIZE = 10_000  # csvbot's default LOG_QUEUE_SIZE
EXC_FRAMES = (20, 200)
EXC_ROUNDS = 20
#: Calls per round: fewer than LIVE_TRACEBACK_LIMIT, so that (c) stays on its path for a writer
#: that keeps up (past the limit, behind a stuck writer, it freezes stacks on the caller).
EXC_BURST = 100
STORM_RATE = 2_000
STORM_FRAMES = 40
PARTS = ("cpu", "lag", "rss", "exc", "storm")

log = logging.getLogger("csvbot.bench")


def log_one(i: int) -> None:
    log.info(
        "job %s finished with %d rows",
        "j-7f3a",
        i,
        extra={"job_id": "j-7f3a", "rows": i, "duration_seconds": 0.25},
    )


# Four distinct functions calling each other round: a stack of distinct frames, as in an application
# (one function recursing would be folded into "[Previous line repeated …]" by every formatter).
def _raise_a(depth: int) -> None:
    if depth <= 1:
        raise RuntimeError(f"upload failed after {STORM_FRAMES} retries")
    _raise_b(depth - 1)


def _raise_b(depth: int) -> None:
    _raise_c(depth - 1)


def _raise_c(depth: int) -> None:
    _raise_d(depth - 1)


def _raise_d(depth: int) -> None:
    _raise_a(depth - 1)


def raised_through(frames: int) -> BaseException:
    """An exception whose traceback has ``frames`` frames (this function's included)."""
    try:
        _raise_a(frames - 1)
    except RuntimeError as error:
        return error
    raise AssertionError("unreachable")


def log_failure(i: int) -> None:
    try:
        _raise_a(STORM_FRAMES - 1)
    except RuntimeError:
        log.exception("job %d failed", i, extra={"job_id": "j-7f3a"})


class SlowStream:
    """A text sink that takes ``per_line`` seconds per record it receives."""

    def __init__(self, per_line: float) -> None:
        self.per_line = per_line

    def write(self, text: str) -> int:
        if self.per_line:
            time.sleep(self.per_line * text.count("\n"))
        return len(text)

    def flush(self) -> None:
        pass


def configure(config: str, path: Path, stream: Any) -> tuple[Callable[[], None], Callable[[], None]]:
    """Set up ``config``; returns (wait until every record is in the file, tear down)."""
    logging.getLogger().handlers.clear()
    # The same fields as (c) writes: timestamp, level, logger, message, service, the extras.
    formatter = JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        static_fields={"service": "csvbot-bench"},
        timestamp=True,
    )
    if config == "csvbot":
        metrics = Metrics(CollectorRegistry(), process_metrics=False)
        runtime = setup_logging(service_name="csvbot-bench", log_file=path, stream=stream, metrics=metrics)
        return (lambda: runtime.flush(600.0)), (lambda: runtime.stop(600.0))
    file_handler = logging.FileHandler(path, encoding="utf-8")
    stream_handler = logging.StreamHandler(stream)
    for handler in (file_handler, stream_handler):
        handler.setFormatter(formatter)
    if config == "sync":
        logging.basicConfig(handlers=[file_handler, stream_handler], level=logging.INFO, force=True)
        return (lambda: None), file_handler.close
    q: queue.Queue[logging.LogRecord] = queue.Queue(-1)
    listener = logging.handlers.QueueListener(q, file_handler, stream_handler)
    logging.basicConfig(handlers=[logging.handlers.QueueHandler(q)], level=logging.INFO, force=True)
    listener.start()
    return q.join, listener.stop


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


# --- children --------------------------------------------------------------------------------


def child_cpu(config: str, records: int, workdir: Path) -> dict[str, Any]:
    caller, total = [], []
    for round_ in range(4):  # round 0 warms up
        path = workdir / f"cpu-{config}-{round_}.log"
        with open(os.devnull, "w") as devnull:
            wait_written, teardown = configure(config, path, devnull)
            n = records if round_ else 1_000
            gc.collect()
            cpu0, thread0 = time.process_time(), time.thread_time()
            for i in range(n):
                log_one(i)
            thread1 = time.thread_time()
            wait_written()
            cpu1 = time.process_time()
            teardown()
        lines = count_lines(path)
        if lines != n:
            raise SystemExit(f"{config}: {lines} of {n} lines in the file")
        if round_:
            caller.append((thread1 - thread0) / n * 1e6)
            total.append((cpu1 - cpu0) / n * 1e6)
    return {"caller_us": statistics.median(caller), "total_us": statistics.median(total)}


async def _lag_run(rate: int, tick: float, emit: Callable[[int], None] = log_one) -> tuple[list[float], int]:
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    sent = 0
    stop_at = loop.time() + LAG_SECONDS

    async def monitor() -> None:
        while loop.time() < stop_at:
            due = loop.time() + LAG_INTERVAL
            await asyncio.sleep(LAG_INTERVAL)
            lags.append(loop.time() - due)

    async def producer(phase: int) -> None:
        nonlocal sent
        # Independent tasks do not tick in step: spread their ticks evenly over the period.
        await asyncio.sleep(tick * phase / PRODUCER_TASKS)
        start, mine = loop.time(), 0
        while loop.time() < stop_at:
            owed = int((loop.time() - start) * rate / PRODUCER_TASKS) - mine
            for _ in range(owed):
                emit(mine)
                mine += 1
            await asyncio.sleep(tick)
        sent += mine

    await asyncio.gather(monitor(), *(producer(phase) for phase in range(PRODUCER_TASKS)))
    return lags, sent


def child_lag(
    config: str, rate: int, tick: float, workdir: Path, emit: Callable[[int], None] = log_one
) -> dict[str, Any]:
    path = workdir / f"lag-{config}.log"
    with open(os.devnull, "w") as devnull:
        teardown: Callable[[], None] = lambda: None  # noqa: E731
        wait_written: Callable[[], None] = lambda: None  # noqa: E731
        if config == "none":
            # The baseline runs the same tasks making the same calls, with logging disabled.
            logging.disable(logging.CRITICAL)
        else:
            wait_written, teardown = configure(config, path, devnull)
        lags, sent = asyncio.run(_lag_run(rate, tick, emit))
        wait_written()
        teardown()
    lags_ms = sorted(lag * 1e3 for lag in lags)
    return {
        "p50_ms": lags_ms[len(lags_ms) // 2],
        "p99_ms": lags_ms[int(len(lags_ms) * 0.99)],
        "max_ms": lags_ms[-1],
        "sent": sent,
        "written": count_lines(path) if config != "none" else 0,
    }


def child_exc(config: str, frames: int, workdir: Path) -> dict[str, Any]:
    error = raised_through(frames)
    path = workdir / f"exc-{config}.log"
    per_call: list[float] = []
    with open(os.devnull, "w") as devnull:
        wait_written, teardown = configure(config, path, devnull)
        cpu = 0.0
        for round_ in range(EXC_ROUNDS + 1):  # round 0 warms up: linecache, the writer thread
            gc.collect()
            cpu0, thread0 = time.process_time(), time.thread_time()
            for i in range(EXC_BURST):
                log.error("job %d failed", i, exc_info=error)
            thread1 = time.thread_time()
            wait_written()
            if round_:
                per_call.append((thread1 - thread0) / EXC_BURST * 1e6)
                cpu += time.process_time() - cpu0
        teardown()
    calls = EXC_BURST * (EXC_ROUNDS + 1)
    lines = count_lines(path)
    if lines != calls:
        raise SystemExit(f"{config}: {lines} of {calls} lines in the file")
    last = json.loads(path.read_text().splitlines()[-1])
    # (b) has the traceback in the message: QueueHandler.prepare() formats it there on the caller.
    stack = last.get("stack") or last.get("exc_info") or last["message"]
    if stack.count("\n  File ") < frames:
        raise SystemExit(f"{config}: the written stack lacks frames: {stack[-300:]!r}")
    return {"p50_us": statistics.median(per_call), "total_us": cpu / (EXC_BURST * EXC_ROUNDS) * 1e6}


def child_rss(config: str, burst: int, workdir: Path) -> dict[str, Any]:
    sink = SlowStream(SLOW_SINK_SECONDS)
    configure(config, workdir / f"rss-{config}-{burst}.log", sink)
    gc.collect()
    before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    for i in range(burst):
        log_one(i)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    result = {"growth_mb": (peak - before) / 2**20, "burst_seconds": seconds}
    # Report and leave without draining: (b) would need 100 s to write its backlog.
    print(json.dumps(result), flush=True)
    os._exit(0)


def _median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged = {k: statistics.median(r[k] for r in results) for k in ("p50_ms", "p99_ms", "max_ms")}
    merged["sent"] = sum(r["sent"] for r in results)
    merged["written"] = sum(r["written"] for r in results)
    return merged


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="records per CPU round")
    parser.add_argument("--only", help=f"comma-separated parts to run, of {','.join(PARTS)}")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args.child, args.records)

    parts = set(args.only.split(",")) if args.only else set(PARTS)
    if parts - set(PARTS):
        parser.error(f"--only takes some of {','.join(PARTS)}")
    started = time.perf_counter()
    print(f"csvbot logging benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    targets: list[tuple[str, str, bool]] = []
    if "cpu" in parts or "lag" in parts or "rss" in parts:
        targets += report_records(args.records, parts)
    if "exc" in parts or "storm" in parts:
        targets += report_exceptions(parts)
    print("\nTargets for (c), in this run:")
    for name, value, ok in targets:
        print(f"  {name:44}{value:>22}   {'PASS' if ok else 'MISS'}")
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")


def report_records(records: int, parts: set[str]) -> list[tuple[str, str, bool]]:
    cpu = {c: run_child("cpu", c, str(records)) for c in CONFIGS} if "cpu" in parts else {}
    # Lag runs interleave the configurations and repeat, so that a burst of load from elsewhere
    # on the machine does not land on one configuration only; each statistic is the median.
    runs: dict[tuple[str, int, float], list[dict[str, Any]]] = {}
    for _ in range(LAG_REPEATS if "lag" in parts else 0):
        for rate, tick in LAG_SCENARIOS:
            for config in ("none", *CONFIGS):
                result = run_child("lag", config, str(rate), str(tick))
                runs.setdefault((config, rate, tick), []).append(result)
    lag = {key: _median_run(results) for key, results in runs.items()}
    rss: dict[tuple[str, int], dict[str, Any]] = {}
    if "rss" in parts:
        rss["stock", BURST] = run_child("rss", "stock", str(BURST))
        for burst in (BURST, 2 * BURST):
            rss["csvbot", burst] = run_child("rss", "csvbot", str(burst))
    return print_report(records, cpu, lag, rss)


def report_exceptions(parts: set[str]) -> list[tuple[str, str, bool]]:
    columns = ("none", *CONFIGS)
    labels = {"none": "no logging", **LABELS}
    print(f"\nlog.exception: {EXC_ROUNDS} bursts of {EXC_BURST}, median · error storm: {STORM_RATE:,}")
    print(
        f"exceptions/s through {STORM_FRAMES} frames, {PRODUCER_TASKS} tasks, median of {LAG_REPEATS} "
        "interleaved runs\n"
    )
    _row("", [labels[c] for c in columns])
    targets: list[tuple[str, str, bool]] = []
    if "exc" in parts:
        exc = {(c, n): run_child("exc", c, str(n)) for n in EXC_FRAMES for c in CONFIGS}
        for n in EXC_FRAMES:
            _row(
                f"log.exception caller CPU, {n} frames, µs",
                ["—", *(f"{exc[c, n]['p50_us']:.1f}" for c in CONFIGS)],
            )
            _row("  total CPU until on disk, µs", ["—", *(f"{exc[c, n]['total_us']:.1f}" for c in CONFIGS)])
        p50 = exc["csvbot", EXC_FRAMES[0]]["p50_us"]
        ratio = exc["stock", EXC_FRAMES[0]]["p50_us"] / p50
        targets += [
            (f"log.exception caller < 10 µs, {EXC_FRAMES[0]} frames", f"{p50:.1f} µs", p50 < 10),
            (f"  vs (b), {EXC_FRAMES[0]} frames", f"{ratio:.1f}× lower", ratio > 1),
        ]
    if "storm" in parts:
        runs: dict[str, list[dict[str, Any]]] = {}
        for _ in range(LAG_REPEATS):
            for config in columns:
                runs.setdefault(config, []).append(run_child("storm", config, str(STORM_RATE), "0.005"))
        storm = {c: _median_run(r) for c, r in runs.items()}
        _row(
            "storm lag p50/p99/max ms",
            [_lag_cell(r) for r in storm.values()],
        )
        _row(
            "  lines written/logged",
            ["—", *(f"{storm[c]['written']:,}/{storm[c]['sent']:,}" for c in CONFIGS)],
        )
        p99_none, c_run = storm["none"]["p99_ms"], storm["csvbot"]
        targets += [
            (
                "storm lag p99: ≤ 1.5× no logging",
                f"{c_run['p99_ms'] / p99_none:.2f}×",
                c_run["p99_ms"] <= 1.5 * p99_none,
            ),
            (
                "storm: every exception written",
                f"{c_run['written']:,}/{c_run['sent']:,}",
                c_run["written"] == c_run["sent"],
            ),
        ]
    return targets


def child_main(argv: list[str], records: int) -> None:
    kind, config, number = argv[0], argv[1], int(argv[2])
    with tempfile.TemporaryDirectory(prefix="csvbot-bench-") as tmp:
        workdir = Path(tmp)
        if kind == "rss":
            child_rss(config, number, workdir)  # prints its result and exits
        elif kind == "cpu":
            result = child_cpu(config, number, workdir)
        elif kind == "exc":
            result = child_exc(config, number, workdir)
        elif kind == "storm":
            result = child_lag(config, number, float(argv[3]), workdir, emit=log_failure)
        else:
            result = child_lag(config, number, float(argv[3]), workdir)
    print(json.dumps(result))


def print_report(
    records: int,
    cpu: dict[str, dict[str, Any]],
    lag: dict[tuple[str, int, float], dict[str, Any]],
    rss: dict[tuple[str, int], dict[str, Any]],
) -> list[tuple[str, str, bool]]:
    """The ordinary-record table; returns its targets (for (c), against (b) in this run)."""
    print(
        f"CPU: bursts of {records:,} records, median of 3 · lag: {PRODUCER_TASKS} tasks, median of "
        f"{LAG_REPEATS} interleaved runs of {LAG_SECONDS:.0f} s, {LAG_INTERVAL * 1e3:.0f} ms probe\n"
    )
    columns = ("none", *CONFIGS)
    labels = {"none": "no logging", **LABELS}
    _row("", [labels[c] for c in columns])
    targets: list[tuple[str, str, bool]] = []
    if cpu:
        _row("caller-thread CPU, µs per call", ["—", *(f"{cpu[c]['caller_us']:.1f}" for c in CONFIGS)])
        _row("total CPU until on disk, µs/record", ["—", *(f"{cpu[c]['total_us']:.1f}" for c in CONFIGS)])
        ratio_caller = cpu["stock"]["caller_us"] / cpu["csvbot"]["caller_us"]
        ratio_total = cpu["stock"]["total_us"] / cpu["csvbot"]["total_us"]
        targets += [
            ("caller CPU ≥ 2.5× lower than (b)", f"{ratio_caller:.2f}×", ratio_caller >= 2.5),
            ("total CPU/record ≥ 4× lower than (b)", f"{ratio_total:.2f}×", ratio_total >= 4),
        ]
    for rate, tick in LAG_SCENARIOS if lag else ():
        runs = {c: lag[c, rate, tick] for c in columns}
        _row(
            f"lag p50/p99/max ms, {rate:,}/s, every {tick * 1e3:.0f} ms",
            [_lag_cell(r) for r in runs.values()],
        )
        _row(
            "  lines written/logged", ["—", *(f"{runs[c]['written']:,}/{runs[c]['sent']:,}" for c in CONFIGS)]
        )
    for rate, tick in LAG_SCENARIOS[1:] if lag else ():
        p99_none, p99_b, p99_c = (lag[c, rate, tick]["p99_ms"] for c in ("none", "stock", "csvbot"))
        c_run = lag["csvbot", rate, tick]
        where = f"@ {rate // 1000}k/s, {tick * 1e3:.0f} ms"
        targets += [
            (f"lag p99 {where}: ≥ 8× lower than (b)", f"{p99_b / p99_c:.2f}×", p99_b / p99_c >= 8),
            (f"lag p99 {where}: ≤ 1.5× no logging", f"{p99_c / p99_none:.2f}×", p99_c <= 1.5 * p99_none),
            (
                f"every record written {where}",
                f"{c_run['written']:,}/{c_run['sent']:,}",
                c_run["written"] == c_run["sent"],
            ),
        ]
    if rss:
        stock, c1, c2 = rss["stock", BURST], rss["csvbot", BURST], rss["csvbot", 2 * BURST]
        _row(
            "RSS growth, 100k burst, 1 ms/record sink",
            ["—", "n/a", f"{stock['growth_mb']:.1f} MB", f"{c1['growth_mb']:.1f} MB"],
        )
        _row("RSS growth, 200k burst, 1 ms/record sink", ["—", "", "", f"{c2['growth_mb']:.1f} MB"])
        # Memory a queue of QUEUE_SIZE records may take, priced per record from (b)'s unbounded queue.
        queue_mb = stock["growth_mb"] * QUEUE_SIZE / BURST
        bounded = c1["growth_mb"] <= 2 * queue_mb + 5 and c2["growth_mb"] <= c1["growth_mb"] * 1.25 + 5
        targets.append(
            (
                "burst RSS follows queue size, not burst",
                f"{c1['growth_mb']:.0f}, {c2['growth_mb']:.0f} MB (≤{2 * queue_mb + 5:.0f})",
                bounded,
            )
        )
    return targets


def _lag_cell(run: dict[str, Any]) -> str:
    """p50/p99/max in ms, short enough for a column even when a configuration stalls for seconds."""
    return "/".join(_ms(run[key]) for key in ("p50_ms", "p99_ms", "max_ms"))


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _row(name: str, cells: list[str]) -> None:
    print(f"{name:42}" + "".join(f"{cell:>19}" for cell in cells))


if __name__ == "__main__":
    main()
