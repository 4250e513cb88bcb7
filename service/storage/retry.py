"""Retry policy of storage operations: exponential backoff with full jitter.

Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter") sleeps a uniform random time
in ``[0, min(cap, base * 2**(n-1))]`` before retry ``n``: clients that failed together do not
retry together, which is what a recovering Storage needs. All retries live inside the operation's
one deadline; the runner never starts a sleep that would end past it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["NO_RETRY", "RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts an idempotent operation gets, and how long to wait between them.

    Defaults: 4 attempts caps the extra load a Storage outage draws from us at 4x; a 0.1 s base
    clears a gateway's transient 503 in a few hundred ms; the 2 s cap keeps the worst wait well
    inside the 15 s deadline, so a late retry still has time to run.
    """

    max_attempts: int = 4
    base_delay_seconds: float = 0.1
    max_delay_seconds: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.base_delay_seconds < 0 or self.max_delay_seconds < self.base_delay_seconds:
            raise ValueError("need 0 <= base_delay_seconds <= max_delay_seconds")

    def backoff_ceiling(self, retry_number: int) -> float:
        """The largest sleep before retry ``retry_number`` (1 for the first retry)."""
        return min(self.max_delay_seconds, self.base_delay_seconds * 2.0 ** (retry_number - 1))

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """A full-jitter sleep before retry ``retry_number``."""
        return rng.uniform(0.0, self.backoff_ceiling(retry_number))


#: One attempt only: for backends whose failures do not heal by themselves (a local disk).
NO_RETRY = RetryPolicy(max_attempts=1)
