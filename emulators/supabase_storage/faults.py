"""Faults the Supabase Storage test server injects on command.

A :class:`Fault` names what goes wrong (``kind``), for which operations, how often (``count`` and
``probability``) and its parameters. The server asks its :class:`FaultPlan` once per request:
:meth:`FaultPlan.take` returns the extra latency to add and at most one failure to act out.
Latency combines with a failure, so a simulation can have "slow and sometimes 503" at once.

Randomness comes from one ``random.Random(seed)`` per plan: a run with the same seed and the same
request order injects the same faults, which keeps simulations and benchmarks repeatable.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "OPERATIONS",
    "Delay",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FixedDelay",
    "LogNormalDelay",
    "Selection",
]

#: Every operation the server routes; a fault may target any subset (empty: all of them).
OPERATIONS: tuple[str, ...] = (
    "list_buckets",
    "get_bucket",
    "create_bucket",
    "delete_bucket",
    "empty_bucket",
    "upload",
    "update",
    "download",
    "info",
    "list",
    "remove",
    "sign",
    "signed_download",
)

FaultKind = Literal["latency", "hang", "status", "trickle", "reset", "truncate"]
_FAILURE_KINDS: frozenset[str] = frozenset({"hang", "status", "trickle", "reset", "truncate"})

#: z-score of the 99th percentile of a standard normal distribution.
_Z_P99 = 2.3263478740408408


@dataclass(frozen=True)
class FixedDelay:
    """Always the same added latency."""

    seconds: float

    def sample(self, rng: random.Random) -> float:
        return self.seconds


@dataclass(frozen=True)
class LogNormalDelay:
    """Latency whose median and 99th percentile are given: the usual shape of network latency.

    ``ln(delay)`` is normal with ``mu = ln(median)`` and ``sigma = (ln(p99) - mu) / z(0.99)``.
    ``cap_seconds`` cuts the long tail so one unlucky sample cannot stall a run.
    """

    median_seconds: float
    p99_seconds: float
    cap_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.median_seconds <= self.p99_seconds:
            raise ValueError("need 0 < median_seconds <= p99_seconds")

    def sample(self, rng: random.Random) -> float:
        mu = math.log(self.median_seconds)
        sigma = (math.log(self.p99_seconds) - mu) / _Z_P99
        return min(rng.lognormvariate(mu, sigma), self.cap_seconds)


Delay = FixedDelay | LogNormalDelay


@dataclass(frozen=True)
class Fault:
    """One injected fault. Build them with the class methods; they validate their parameters.

    * ``latency``: wait ``delay`` before answering.
    * ``hang``: never answer; the request ends only when the client gives up or the server stops.
    * ``status``: answer ``status`` (500, 503, …) with a Storage-style JSON error body.
    * ``trickle``: send the response body ``chunk_bytes`` at a time every ``interval_seconds``.
    * ``reset``: send headers and ``after_bytes`` of the body, then reset the TCP connection.
    * ``truncate``: promise the full ``Content-Length``, send ``after_bytes``, close cleanly.

    ``after_bytes`` of ``None`` means half of the body.
    """

    kind: FaultKind
    operations: frozenset[str] = frozenset()
    count: int | None = None
    probability: float = 1.0
    delay: Delay | None = None
    status: int = 503
    chunk_bytes: int = 1
    interval_seconds: float = 0.1
    after_bytes: int | None = None

    def __post_init__(self) -> None:
        unknown = set(self.operations) - set(OPERATIONS)
        if unknown:
            raise ValueError(f"unknown operations {sorted(unknown)}; known: {OPERATIONS}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1 (or None for unlimited)")
        if not 0.0 < self.probability <= 1.0:
            raise ValueError("probability must be in (0, 1]")
        if self.kind == "latency" and self.delay is None:
            raise ValueError("a latency fault needs a delay")
        if self.kind == "status" and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status")
        if self.chunk_bytes < 1 or self.interval_seconds < 0:
            raise ValueError("trickle needs chunk_bytes >= 1 and interval_seconds >= 0")

    # --- constructors ---------------------------------------------------------------------

    @classmethod
    def latency(cls, seconds: float, **targeting: Any) -> Fault:
        return cls("latency", delay=FixedDelay(seconds), **_targeting(targeting))

    @classmethod
    def latency_distribution(cls, median_seconds: float, p99_seconds: float, **targeting: Any) -> Fault:
        delay = LogNormalDelay(median_seconds, p99_seconds)
        return cls("latency", delay=delay, **_targeting(targeting))

    @classmethod
    def hang(cls, **targeting: Any) -> Fault:
        return cls("hang", **_targeting(targeting))

    @classmethod
    def error_status(cls, status: int = 503, **targeting: Any) -> Fault:
        return cls("status", status=status, **_targeting(targeting))

    @classmethod
    def trickle(cls, chunk_bytes: int = 1, interval_seconds: float = 0.1, **targeting: Any) -> Fault:
        return cls(
            "trickle", chunk_bytes=chunk_bytes, interval_seconds=interval_seconds, **_targeting(targeting)
        )

    @classmethod
    def reset(cls, after_bytes: int | None = None, **targeting: Any) -> Fault:
        return cls("reset", after_bytes=after_bytes, **_targeting(targeting))

    @classmethod
    def truncate(cls, after_bytes: int | None = None, **targeting: Any) -> Fault:
        return cls("truncate", after_bytes=after_bytes, **_targeting(targeting))

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Fault:
        """Build a fault from the control endpoint's JSON (see the server's module docstring)."""
        data = dict(doc)
        kind = data.pop("kind")
        delay_doc = data.pop("latency", None)
        delay: Delay | None = None
        if isinstance(delay_doc, dict) and "median" in delay_doc:
            delay = LogNormalDelay(float(delay_doc["median"]), float(delay_doc["p99"]))
        elif delay_doc is not None:
            seconds = delay_doc["fixed"] if isinstance(delay_doc, dict) else delay_doc
            delay = FixedDelay(float(seconds))
        allowed = {"operations", "count", "probability", "status", "chunk_bytes", "interval_seconds"}
        allowed.add("after_bytes")
        extra = set(data) - allowed
        if extra:
            raise ValueError(f"unknown fault fields {sorted(extra)}")
        return cls(kind=kind, delay=delay, **_targeting(data))

    def applies_to(self, operation: str) -> bool:
        return not self.operations or operation in self.operations


def _targeting(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise ``operations`` (any iterable of names) to a frozenset."""
    out = dict(values)
    if "operations" in out:
        ops = out["operations"]
        out["operations"] = frozenset([ops] if isinstance(ops, str) else ops)
    return out


@dataclass
class Selection:
    """What to do to one request: extra latency first, then at most one failure."""

    delay_seconds: float = 0.0
    failure: Fault | None = None


@dataclass
class _Active:
    fault: Fault
    remaining: int | None


@dataclass
class FaultPlan:
    """The faults in force, consumed request by request. Not thread-safe: one event loop owns it."""

    seed: int = 0
    _active: list[_Active] = field(default_factory=list)
    #: (operation, kind) → how many requests a fault hit.
    fired: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, fault: Fault) -> None:
        self._active.append(_Active(fault, fault.count))

    def clear(self) -> None:
        self._active.clear()

    @property
    def active(self) -> list[Fault]:
        return [a.fault for a in self._active]

    def take(self, operation: str) -> Selection:
        """Decide the faults of one request to ``operation``; counted faults are used up."""
        selection = Selection()
        for entry in list(self._active):
            fault = entry.fault
            if not fault.applies_to(operation):
                continue
            is_failure = fault.kind in _FAILURE_KINDS
            if is_failure and selection.failure is not None:
                continue
            if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                continue
            if fault.kind == "latency":
                assert fault.delay is not None
                selection.delay_seconds += fault.delay.sample(self._rng)
            else:
                selection.failure = fault
            self.fired[(operation, fault.kind)] += 1
            if entry.remaining is not None:
                entry.remaining -= 1
                if entry.remaining == 0:
                    self._active.remove(entry)
        return selection
