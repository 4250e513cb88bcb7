"""The ``csvbot`` command line: one entry point for every way the service runs.

Each subcommand loads :class:`~service.config.Settings` once and hands it down. A configuration
problem ends with one line naming the variable and exit status 2 — never a traceback.

``run``, ``worker`` and ``migrate`` are the service's own. Tools over the service (``simulate``,
``generate``) live in packages of their own that ``service`` never imports; they add their
subcommands through the ``csvbot.commands`` entry-point group (see pyproject.toml). Each entry
names a module with ``HELP``, ``NEEDS_SETTINGS``, ``add_arguments(parser)`` and
``run(args, settings)``. An installation without those packages (the production image) simply
has no such subcommand.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType

from service.config import Settings, load_settings
from service.errors import ConfigError, CsvbotError

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 1
PLUGIN_GROUP = "csvbot.commands"


def plugin_commands() -> dict[str, ModuleType]:
    """The installed tool subcommands, by name; an entry whose package is absent is skipped."""
    found: dict[str, ModuleType] = {}
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            found[entry.name] = importlib.import_module(entry.value)
        except ModuleNotFoundError:
            continue  # declared by the distribution but not shipped in this installation
    return found


def _parser(plugins: dict[str, ModuleType]) -> argparse.ArgumentParser:
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

    for name, plugin in sorted(plugins.items()):
        plugin.add_arguments(sub.add_parser(name, help=plugin.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    plugins = plugin_commands()
    args = _parser(plugins).parse_args(argv)
    plugin = plugins.get(args.command)
    if plugin is not None and not plugin.NEEDS_SETTINGS:
        return int(plugin.run(args, None))
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"csvbot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return _dispatch(args, settings, plugin)
    except ConfigError as exc:
        print(f"csvbot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CsvbotError as exc:
        # A dependency that cannot be reached at start-up (database, storage): one line, exit 1.
        print(f"csvbot: cannot start ({exc.kind}): {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings, plugin: ModuleType | None) -> int:
    if plugin is not None:
        return int(plugin.run(args, settings))
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
    raise AssertionError(f"unhandled command {args.command}")
