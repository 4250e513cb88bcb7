"""Python twins of Prometheus' template functions ``humanize``, ``humanizeDuration`` and
``humanizePercentage``.

Annotations state thresholds in the words Prometheus uses for live values ("500ms", "90%"), and
the promtool cases predict the rendered annotations with the same functions. If a twin drifted
from Prometheus, ``promtool test rules`` would fail on the annotation text.
"""

from __future__ import annotations

import math

_LARGE = ("k", "M", "G", "T", "P", "E", "Z", "Y")
_SMALL = ("m", "u", "n", "p", "f", "a", "z", "y")


def _g4(v: float) -> str:
    """Go's ``%.4g``."""
    return f"{v:.4g}"


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in _LARGE:
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return f"{_g4(v)}{prefix}"
    for p in _SMALL:
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}"


def _whole_duration(v: float) -> str:
    """``v`` ≥ 1 second: days to minutes as integers, or seconds to 4 significant digits."""
    sign = "-" if v < 0 else ""
    v = abs(v)
    whole = int(v)
    parts = (
        ("d", whole // 86400),
        ("h", (whole // 3600) % 24),
        ("m", (whole // 60) % 60),
        ("s", whole % 60),
    )
    for i, (_, amount) in enumerate(parts[:-1]):
        if amount:
            return sign + " ".join(f"{n}{unit}" for unit, n in parts[i:])
    return f"{sign}{_g4(v)}s"


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return f"{_g4(v)}s"
    if abs(v) >= 1:
        return _whole_duration(v)
    prefix = ""
    for p in _SMALL:
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


def humanize_percentage(v: float) -> str:
    return f"{_g4(v * 100)}%"


def live_value(query: str, default: str, func: str = "humanizeDuration") -> str:
    """An annotation template that prints ``query``'s first value through ``func`` at
    notification time, or ``default`` when the query has no result (an older process that does
    not export it). This is how alert texts state the running configuration, not the default."""
    return (
        f'{{{{ with query "{query}" }}}}{{{{ . | first | value | {func} }}}}'
        f"{{{{ else }}}}{default}{{{{ end }}}}"
    )
