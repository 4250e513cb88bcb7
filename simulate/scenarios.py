"""Named workloads and fault mixes for ``csvbot simulate``.

A scenario is a population of users, an open-loop arrival rate of user actions, a documented mix
of what those actions are, the size distribution of the files they upload, and the faults to
inject. Every draw comes from one seeded RNG, so a run is reproducible.

The default, ``launch``, is the launch forecast's load: 90 actions a minute (the forecast's
"80–100 requests per minute") from a population of 2,000 users, on the embedded defaults.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class ActionMix:
    """Relative weights of what a simulated user does next (normalised when drawn)."""

    start: float = 0.10
    help: float = 0.05
    upload: float = 0.45
    jobs: float = 0.25
    job: float = 0.15  # /job <id> of one of the user's own jobs (falls back to /jobs if none)

    def weights(self) -> dict[str, float]:
        return {
            "start": self.start,
            "help": self.help,
            "upload": self.upload,
            "jobs": self.jobs,
            "job": self.job,
        }


@dataclass(frozen=True)
class FileMix:
    """What the uploaded files look like."""

    #: Median and 95th percentile of the clean file size in bytes (log-normal), capped.
    median_bytes: int = 16_000
    p95_bytes: int = 400_000
    max_bytes: int = 3_000_000
    #: Share of files that are messy but valid: cp1251, ``;`` delimiters, ragged rows, BOMs.
    messy_share: float = 0.25
    #: Share of files that must be refused: binary data, empty files, wrong types.
    bad_share: float = 0.05


@dataclass(frozen=True)
class Faults:
    #: Storage faults go through the Supabase Storage test server (the Supabase backend is used).
    storage_latency_median: float = 0.0
    storage_latency_p99: float = 0.0
    storage_hang_rate: float = 0.0
    storage_error_rate: float = 0.0
    #: Telegram faults go through the emulator.
    telegram_429_rate: float = 0.0
    telegram_5xx_rate: float = 0.0
    telegram_retry_after: int = 1

    @property
    def uses_storage_server(self) -> bool:
        return any((self.storage_latency_median, self.storage_hang_rate, self.storage_error_rate))


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    users: int = 2_000
    #: User actions per second, arriving as a Poisson process (open loop).
    rate: float = 1.5
    #: Seconds of arrivals; the run then waits up to ``drain`` seconds for answers.
    duration: float = 45.0
    drain: float = 30.0
    actions: ActionMix = field(default_factory=ActionMix)
    files: FileMix = field(default_factory=FileMix)
    faults: Faults = field(default_factory=Faults)
    session_limit: int | None = None
    #: Deadline of one storage operation during the run (shorter than production's 15 s so that a
    #: hang shows up as a timeout within a one-minute simulation).
    storage_timeout: float = 15.0
    storage_slow: float = 10.0
    #: How long a simulated user waits for an answer before counting the action as failed.
    reply_timeout: float = 30.0
    result_timeout: float = 60.0
    #: On SQLite, model PostgreSQL sessions: each unit of work holds one for this long (a round
    #: trip to a remote pooler). None: SQLite as it is (sub-millisecond, one connection).
    db_round_trip: float | None = None
    #: Session-limit tuning windows for the run (SESSION_LIMIT_WINDOW_SECONDS and the cooldown),
    #: shortened so that a one-minute run can see several decisions. None: the operator's.
    tuning_window: float | None = None
    tuning_cooldown: float | None = None
    #: Jobs the in-process worker runs at once (WORKER_CONCURRENCY). None: the operator's.
    worker_concurrency: int | None = None


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="launch",
            description="The launch forecast's load (90 actions/min, 2,000 users), no faults.",
        ),
        Scenario(
            name="storage-brownout",
            description="Supabase Storage slow (median 0.3 s, p99 4 s) and 5 % of calls failing with 503.",
            faults=Faults(storage_latency_median=0.3, storage_latency_p99=4.0, storage_error_rate=0.05),
        ),
        Scenario(
            name="storage-hang",
            description="3 % of storage calls hang until the client gives up (deadline 3 s).",
            faults=Faults(storage_hang_rate=0.03),
            storage_timeout=3.0,
            storage_slow=2.0,
        ),
        Scenario(
            name="telegram-flood",
            description="Telegram answers 20 % of calls with 429 retry_after=1 and 2 % with 502.",
            faults=Faults(telegram_429_rate=0.20, telegram_5xx_rate=0.02),
        ),
        Scenario(
            name="pool-starved",
            description=(
                "Nearly seven times the launch load (mostly commands, small files) on the launch "
                "session limit (4), every database session held for a 150 ms round trip "
                "(PostgreSQL, or a PostgreSQL-like model on SQLite)."
            ),
            # Small files (little CPU) on slow sessions: the pool, not the event loop, is what runs
            # out. At 10 actions a second, 4 sessions of 0.15 s leave uploads waiting past 5 s
            # within 20 s of arrivals (p95 5.7 s, one run on a quiet machine); 8 keep up (p95
            # 4.5 s with the adaptive ramp). The round trip is kept short because an upload takes
            # about ten sequential sessions: at 0.3 s those alone approach the 5 s objective at
            # any limit. Four concurrent jobs, so that the worker's job slots are not what runs
            # out (a delivery takes several sessions of its own).
            rate=10.0,
            actions=ActionMix(start=0.15, help=0.10, upload=0.25, jobs=0.30, job=0.20),
            files=FileMix(median_bytes=2_000, p95_bytes=20_000, max_bytes=100_000),
            worker_concurrency=4,
            session_limit=4,
            db_round_trip=0.15,
            tuning_window=1.0,
            # A step per window: the run is a minute, not an hour.
            tuning_cooldown=0.5,
        ),
    )
}


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The named scenario with any command-line overrides applied."""
    s = SCENARIOS[args.scenario]
    if args.duration is not None:
        s = replace(s, duration=args.duration, drain=min(s.drain, max(10.0, args.duration)))
    if args.users is not None:
        s = replace(s, users=args.users)
    if args.rate is not None:
        s = replace(s, rate=args.rate)
    if args.session_limit is not None:
        s = replace(s, session_limit=args.session_limit)
    faults = s.faults
    if args.storage_hang_rate is not None:
        faults = replace(faults, storage_hang_rate=args.storage_hang_rate)
    if args.storage_error_rate is not None:
        faults = replace(faults, storage_error_rate=args.storage_error_rate)
    if args.telegram_429_rate is not None:
        faults = replace(faults, telegram_429_rate=args.telegram_429_rate)
    return replace(s, faults=faults)
