"""Injected faults for chosen Bot API methods, and counters of the calls the emulator served.

A rule applies to the next ``count`` matching calls (``None``: until removed), each with
``probability`` (drawn from the emulator's seeded RNG, so a seeded simulation is reproducible).
On each call every matching latency rule that fires adds its delay; then the first matching
error rule that fires decides the answer (429 with ``retry_after``, or a 5xx).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from emulators.telegram.errors import BotApiError, server_error, too_many_requests

FaultKind = Literal["rate_limit", "server_error", "latency"]
FAULT_KINDS: tuple[FaultKind, ...] = ("rate_limit", "server_error", "latency")


@dataclass
class FaultRule:
    """One injected fault. ``methods`` are Bot API names (any case); empty means every method."""

    kind: FaultKind
    methods: frozenset[str] = frozenset()
    count: int | None = None
    probability: float = 1.0
    retry_after: int = 1
    status: int = 500
    latency_seconds: float = 0.0
    id: int = 0
    applied: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0 or None")
        if self.kind == "rate_limit" and self.retry_after < 1:
            raise ValueError("retry_after must be >= 1 second")
        if self.kind == "server_error":
            server_error(self.status)  # validates the 5xx range
        if self.latency_seconds < 0:
            raise ValueError("latency_seconds must be >= 0")
        self.methods = frozenset(method.lower() for method in self.methods)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.applied >= self.count

    def matches(self, method: str) -> bool:
        return not self.methods or method.lower() in self.methods

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "methods": sorted(self.methods),
            "count": self.count,
            "probability": self.probability,
            "retry_after": self.retry_after,
            "status": self.status,
            "latency_seconds": self.latency_seconds,
            "applied": self.applied,
        }


@dataclass(frozen=True)
class FaultDecision:
    latency_seconds: float = 0.0
    error: BotApiError | None = None


class FaultInjector:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._rules: list[FaultRule] = []
        self._last_id = 0

    def add(self, rule: FaultRule) -> FaultRule:
        self._last_id += 1
        rule.id = self._last_id
        self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self._rules)
        self._rules = [rule for rule in self._rules if rule.id != rule_id]
        return len(self._rules) < before

    def clear(self) -> None:
        self._rules.clear()

    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def decide(self, method: str) -> FaultDecision:
        """What to do to this call. Exhausted rules are dropped."""
        latency = 0.0
        error: BotApiError | None = None
        for rule in self._rules:
            if rule.exhausted or not rule.matches(method):
                continue
            if rule.kind != "latency" and error is not None:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            rule.applied += 1
            if rule.kind == "latency":
                latency += rule.latency_seconds
            elif rule.kind == "rate_limit":
                error = too_many_requests(rule.retry_after)
            else:
                error = server_error(rule.status)
        self._rules = [rule for rule in self._rules if not rule.exhausted]
        return FaultDecision(latency, error)


class CallStats:
    """Bot API calls served, by method and by HTTP status (unknown methods count as "unknown")."""

    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.by_method_status: Counter[tuple[str, int]] = Counter()

    def record(self, method: str, status: int) -> None:
        self.by_method[method] += 1
        self.by_status[status] += 1
        self.by_method_status[method, status] += 1

    def calls(self, method: str | None = None, status: int | None = None) -> int:
        """How many calls matched ``method`` and/or ``status`` (both ``None``: all calls)."""
        if method is None:
            return sum(self.by_status.values()) if status is None else self.by_status[status]
        if status is None:
            return self.by_method[method]
        return self.by_method_status[method, status]

    def reset(self) -> None:
        self.by_method.clear()
        self.by_status.clear()
        self.by_method_status.clear()

    def to_json(self) -> dict[str, Any]:
        by_method_status: dict[str, dict[str, int]] = {}
        for (method, status), count in sorted(self.by_method_status.items()):
            by_method_status.setdefault(method, {})[str(status)] = count
        return {
            "total": self.calls(),
            "by_method": dict(sorted(self.by_method.items())),
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_method_status": by_method_status,
        }
