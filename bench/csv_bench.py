"""CSV processing benchmark: throughput and peak memory of ``process_csv``, and the engine choice.

For generated files of 1 MB, 20 MB and 100 MB (a realistic table: ids, customers, amounts,
booleans, dates and quoted free text; 1 % exact duplicate rows; a few formula cells), each run
happens in a fresh child process, so its peak RSS belongs to that run alone. Printed per size:
rows, seconds, throughput in MB/s, peak RSS, and the RSS before processing (interpreter and
imports), so the difference is what processing itself cost.

Then, unless ``--no-engines``, the baselines the design was measured against, one fresh process
each: Python's csv module only streaming the rows (no per-cell work: the floor for any
pure-Python pass), and DuckDB's ``read_csv`` with ``SUMMARIZE`` (its sniffer, typed columns,
approximate distinct counts, all cores).

Usage: ``.venv/bin/python bench/csv_bench.py [--sizes 1,20,100] [--no-engines]``
(about two minutes on 2 cores; the files live in a temporary directory removed at the end).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024
# Generous limits: the bench measures the pass, not the rejection of a 100 MB upload.
BENCH_MAX_BYTES = 1024 * MIB
BENCH_MAX_ROWS = 50_000_000


def generate(path: Path, target_bytes: int) -> None:
    """Write about ``target_bytes`` of table, streaming (the generator stays small)."""
    rng = random.Random(42)
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write("id,customer,amount,paid,created,comment\n")
        written = row = 0
        previous = ""
        while written < target_bytes:
            row += 1
            if row % 100 == 0:
                line = previous  # an exact duplicate: dedupe has work to do
            else:
                formula = "=HYPERLINK(1)" if row % 1000 == 0 else f"note {rng.random():.6f}"
                line = (
                    f"{row},customer {rng.randrange(20_000)},{rng.uniform(-500, 500):.2f},"
                    f"{rng.choice(('true', 'false'))},2024-{rng.randrange(1, 13):02d}-"
                    f'{rng.randrange(1, 29):02d},"{formula}, some text"\n'
                )
            stream.write(line)
            written += len(line)
            previous = line


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(mode: str, path: Path, out_dir: Path) -> dict[str, float]:
    """One measured run, in this (fresh) process."""
    if mode == "process":
        from service.csvkit import CsvLimits, process_csv

        before = _peak_rss_mb()
        start = time.perf_counter()
        result = process_csv(path, out_dir, CsvLimits(max_bytes=BENCH_MAX_BYTES, max_rows=BENCH_MAX_ROWS))
        rows = result.rows_in
    elif mode == "csv":
        import csv

        before = _peak_rss_mb()
        start = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as stream:
            rows = sum(1 for _ in csv.reader(stream)) - 1
    else:
        import duckdb

        connection = duckdb.connect()
        before = _peak_rss_mb()
        start = time.perf_counter()
        summary = connection.execute("SUMMARIZE SELECT * FROM read_csv(?)", [str(path)]).fetchall()
        rows = int(summary[0][-2])  # SUMMARIZE's `count` column
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "before_mb": before, "peak_mb": _peak_rss_mb()}


def run_child(mode: str, path: Path, out_dir: Path) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), str(out_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    measured: dict[str, float] = json.loads(completed.stdout)
    return measured


def print_table(title: str, rows: list[tuple[int, dict[str, float]]]) -> None:
    print(f"\n{title}")
    print(f"{'size':>8} {'rows':>10} {'seconds':>8} {'MB/s':>7} {'peak RSS':>9} {'RSS before':>11}")
    for size_mb, m in rows:
        print(
            f"{size_mb:>5} MB {int(m['rows']):>10,} {m['seconds']:>8.2f} "
            f"{size_mb / m['seconds']:>7.1f} {m['peak_mb']:>6.0f} MB {m['before_mb']:>8.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1,20,100", help="file sizes in MB, comma-separated")
    parser.add_argument("--no-engines", action="store_true", help="skip the engine baselines")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "PATH", "OUT_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path, out_dir = args.child
        print(json.dumps(child(mode, Path(path), Path(out_dir))))
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    modes = [("process", "process_csv (profile + clean, one pass)")]
    if not args.no_engines:
        modes += [
            ("csv", "baseline: Python csv module, rows only"),
            ("duckdb", "baseline: DuckDB read_csv + SUMMARIZE"),
        ]
    with tempfile.TemporaryDirectory(prefix="csv-bench-") as workdir:
        root = Path(workdir)
        files = {}
        for size in sizes:
            files[size] = root / f"table_{size}mb.csv"
            generate(files[size], size * MIB)
        for mode, title in modes:
            results = []
            for size in sizes:
                out_dir = root / f"out_{mode}_{size}"
                out_dir.mkdir()
                results.append((size, run_child(mode, files[size], out_dir)))
            print_table(title, results)


if __name__ == "__main__":
    main()
