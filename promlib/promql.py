"""Small PromQL building blocks shared by the rules, the dashboards and their tests.

What the SLOs cover (handlers, log levels) is SLO scope and lives in :mod:`telemetry.slo`.

Kept as plain string helpers: the expressions stay readable in the generated YAML and JSON, and
every place that needs a histogram bucket bound spells it exactly as the exporter does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.utils import floatToGoString

#: Percentiles recorded for every latency histogram.
QUANTILES: tuple[float, ...] = (0.5, 0.95, 0.99)


def le(bound: float) -> str:
    """A bucket bound as prometheus_client writes it in the ``le`` label (``1.0`` → ``"1.0"``)."""
    return str(floatToGoString(bound))  # type: ignore[no-untyped-call]  # untyped in prometheus_client


_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_-]+$")


def any_of(values: Iterable[str]) -> str:
    """A regex alternation for a ``=~`` matcher over a closed label set.

    Only plain values are allowed: they need no escaping, which in a PromQL string would need
    doubled backslashes (``re.escape`` output is not valid there).
    """
    values = list(values)
    for v in values:
        if not _PLAIN_VALUE.match(v):
            raise ValueError(f"label value {v!r} would need regex escaping")
    return "|".join(values)


def quantile_label(q: float) -> str:
    """The ``quantile`` label value of a recorded percentile (``0.95`` → ``"0.95"``)."""
    return f"{q:g}"


# --- reading metric names back out of PromQL (used by the tests) ----------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
    | {"offset", "Inf", "NaN", "inf", "nan"}
)


def metric_names(expr: str) -> set[str]:
    """The metric (and recording-rule) names a PromQL expression selects.

    Good enough for the catalogue check, not a PromQL parser: string literals, label matchers,
    range selectors, grouping clauses and Grafana variables are removed first, then every
    identifier that is not a function call or a keyword is a series name.
    """
    text = _GRAFANA_VARIABLE.sub("", expr)
    text = _STRING.sub('""', text)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    return {name for name in _IDENTIFIER.findall(text) if name not in _KEYWORDS}


def base_metric_name(series: str) -> str:
    """The family a series name belongs to, for names not found verbatim in the registry."""
    for suffix in ("_bucket", "_count", "_sum", "_total", "_created"):
        if series.endswith(suffix):
            return series.removesuffix(suffix)
    return series
