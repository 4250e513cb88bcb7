"""Prometheus durations, and the two timings the rules are generated with.

The committed rules use the production windows from ``telemetry/slo.py``. The live test needs the
same rules to react within seconds, so the generator can emit a *fast* copy in which every range
window and every ``for`` is divided by the same factor. Both copies come from one code path; only
the :class:`Timing` passed in differs, so the fast copy can never drift from the real one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNIT_SECONDS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(\d+)([smhdw])$")


def parse_duration(text: str) -> int:
    """Seconds in a single-unit Prometheus duration such as ``"5m"`` or ``"3d"``."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a single-unit Prometheus duration: {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def format_duration(seconds: int) -> str:
    """The shortest exact single-unit spelling of ``seconds`` (``3600`` → ``"1h"``)."""
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, not {seconds}")
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Timing:
    """How long rule windows and ``for`` clauses really are in one copy of the rules.

    ``divisor`` shrinks every duration; ``min_range_seconds`` keeps a range window wide enough to
    hold several scrapes (``rate()`` needs two samples); ``interval`` is the rule groups'
    evaluation interval (``None``: inherit Prometheus' global ``evaluation_interval``).
    """

    divisor: int = 1
    min_range_seconds: int = 1
    interval: str | None = None

    def window(self, nominal: str) -> str:
        """The range-vector window that stands for ``nominal`` in this copy."""
        seconds = max(parse_duration(nominal) // self.divisor, self.min_range_seconds)
        return format_duration(seconds)

    def hold(self, nominal: str) -> str | None:
        """The ``for`` clause that stands for ``nominal``; ``None`` when it shrinks to nothing."""
        seconds = parse_duration(nominal) // self.divisor
        return format_duration(seconds) if seconds > 0 else None

    @property
    def is_fast(self) -> bool:
        return self.divisor != 1


#: The committed rules: production windows, evaluated at Prometheus' global interval.
PRODUCTION = Timing()
#: The live-test copy: a minute becomes a second. 5 s floor: five samples at a 1 s scrape, so that
#: ``rate()`` and ``deriv()`` still have points to work with; rules evaluated every second.
FAST = Timing(divisor=60, min_range_seconds=5, interval="1s")
