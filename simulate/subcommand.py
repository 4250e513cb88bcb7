"""The ``csvbot simulate`` subcommand, registered with the CLI as a ``csvbot.commands`` entry point.

Only argparse at import time, so ``csvbot --help`` stays cheap; the simulator loads when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.config import Settings

SCENARIOS = ("launch", "storage-brownout", "storage-hang", "telegram-flood", "pool-starved")


HELP = "run the whole service against simulated users and print an SLO report"
NEEDS_SETTINGS = True


def run(args: argparse.Namespace, settings: Settings) -> int:
    from simulate.command import run_simulate

    return run_simulate(settings, args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="launch",
        help="a named workload and fault mix (default: launch)",
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds of arrivals")
    parser.add_argument("--users", type=int, default=None, help="size of the user population")
    parser.add_argument("--rate", type=float, default=None, help="user actions per second (open loop)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (the run is reproducible)")
    parser.add_argument("--session-limit", type=int, default=None, help="database session limit")
    parser.add_argument(
        "--storage-hang-rate", type=float, default=None, help="share of storage calls that hang"
    )
    parser.add_argument(
        "--storage-error-rate", type=float, default=None, help="share of storage calls that 503"
    )
    parser.add_argument(
        "--telegram-429-rate", type=float, default=None, help="share of Bot API calls that 429"
    )
    parser.add_argument(
        "--report", type=Path, default=Path("simulation-report.json"), help="where to write the JSON report"
    )
    parser.add_argument(
        "--find-capacity",
        action="store_true",
        help="step the arrival rate up until the SLO breaks and report the highest sustained rate",
    )
    parser.add_argument("--no-live", action="store_true", help="no live progress view (for logs and CI)")
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve /metrics on this port while running (0: free port)",
    )
    parser.add_argument(
        "--separate-driver",
        action="store_true",
        help="run the service (csvbot run, and csvbot worker with REDIS_URL) in processes of its own; "
        "the simulated users and the emulators stay in this one",
    )
