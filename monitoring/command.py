"""The ``csvbot generate`` subcommand, registered with the CLI as a ``csvbot.commands`` entry point."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitoring.generate import generate_all

HELP = "regenerate alert rules and dashboards"
NEEDS_SETTINGS = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")


def run(args: argparse.Namespace, settings: object) -> int:
    return generate_all(args.root, check=args.check)
