"""The ``csvbot`` command line: one entry point for every way the service runs.

Each subcommand loads :class:`~service.config.Settings` once and hands it down. A configuration
problem ends with one line naming the variable and exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from service.config import Settings, load_settings
from service.errors import ConfigError, CsvbotError

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csvbot", description="A Telegram bot that profiles and cleans CSV files."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the bot (with an in-process worker unless REDIS_URL is set)")

    worker = sub.add_parser("worker", help="run a worker process (needs REDIS_URL)")
    worker.add_argument(
        "--check", action="store_true", help="exit 0 if a worker is healthy, 1 if not (health checks)"
    )

    sub.add_parser("migrate", help="apply database migrations and exit")

    simulate = sub.add_parser(
        "simulate", help="run the whole service against simulated users and print an SLO report"
    )
    from service.simulate.cli_args import add_simulate_arguments

    add_simulate_arguments(simulate)

    generate = sub.add_parser("generate", help="regenerate alert rules and dashboards")
    generate.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    generate.add_argument("--check", action="store_true", help="fail if generated files are stale")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "generate":
        from alerts.generate import generate_all

        return generate_all(args.root, check=args.check)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"csvbot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return _dispatch(args, settings)
    except ConfigError as exc:
        print(f"csvbot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CsvbotError as exc:
        # A dependency that cannot be reached at start-up (database, storage): one line, exit 1.
        print(f"csvbot: cannot start ({exc.kind}): {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        from service.app import run_service

        return asyncio.run(run_service(settings))
    if args.command == "worker":
        from service.workers.main import check_worker, run_worker

        if args.check:
            return check_worker(settings)
        return asyncio.run(run_worker(settings))
    if args.command == "migrate":
        from service.db import migrate_command

        return asyncio.run(migrate_command(settings))
    if args.command == "simulate":
        from service.simulate.command import run_simulate

        return run_simulate(settings, args)
    raise AssertionError(f"unhandled command {args.command}")
