"""The shape of one promtool case, and a renderer for the annotation templates the rules use."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerts.model import AlertRule
from alerts.rules import all_alerts
from alerts.timing import parse_duration
from promlib.humanize import humanize, humanize_duration, humanize_percentage

#: The sample interval of every case: one scrape a minute keeps the series strings short.
INTERVAL = "1m"

BOT = {"job": "csvbot-bot", "instance": "bot:9464"}
WORKER = {"job": "csvbot-worker", "instance": "worker:9465"}


def series(name: str, labels: Mapping[str, str], values: str) -> dict[str, str]:
    """One ``input_series`` entry; labels are written sorted so the YAML is stable."""
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{name}{{{inner}}}" if inner else name, "values": values}


def counter(per_minute: float, minutes: int) -> str:
    """A counter growing by ``per_minute`` every sample for ``minutes`` samples."""
    return f"0+{per_minute:g}x{minutes}"


def gauge(value: float, minutes: int) -> str:
    return f"{value:g}x{minutes}"


def minutes(n: int) -> str:
    return f"{n}m"


def hold_minutes(rule: AlertRule) -> int:
    """The rule's ``for`` in whole minutes (every ``for`` of the production rules is)."""
    assert rule.hold is not None, f"{rule.alert} has no for"
    return parse_duration(rule.hold) // 60


def for_boundary(rule: AlertRule, onset: int) -> tuple[str, tuple[str, ...]]:
    """(eval time at which the alert must fire, times it must not yet) for a condition true from
    minute ``onset`` on: promtool fires it at onset + for, and not one evaluation earlier."""
    fire = onset + hold_minutes(rule)
    return minutes(fire), (minutes(fire - 1),)


@dataclass(frozen=True)
class Case:
    """One promtool test group: the series, one evaluation, the alerts expected then."""

    alertname: str
    when: str
    input_series: Sequence[Mapping[str, str]]
    eval_time: str
    expected: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    #: Earlier evaluations at which nothing may fire yet: one step before the ``for`` runs out.
    quiet_at: Sequence[str] = ()

    @property
    def fires(self) -> bool:
        return bool(self.expected)

    @property
    def name(self) -> str:
        verb = "fires" if self.fires else "does not fire"
        return f"{self.alertname} {verb} when {self.when}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "interval": INTERVAL,
            "input_series": [dict(s) for s in self.input_series],
            "alert_rule_test": [
                *({"eval_time": t, "alertname": self.alertname, "exp_alerts": []} for t in self.quiet_at),
                {
                    "eval_time": self.eval_time,
                    "alertname": self.alertname,
                    "exp_alerts": [dict(e) for e in self.expected],
                },
            ],
        }


# --- predicting what Prometheus renders ---------------------------------------------------

_RANGE_QUERY = re.compile(r'\{\{ range query "([^"]+)" \}\}\{\{ \.Value \}\}\{\{ end \}\}')
_WITH_QUERY = re.compile(
    r'\{\{ with query "([^"]+)" \}\}\{\{ \. \| first \| value \| (\w+) \}\}\{\{ else \}\}(.*?)\{\{ end \}\}'
)
_TOKEN = re.compile(r"\{\{ (\$value(?: \| \w+)?|\$labels\.\w+) \}\}")


def _go_float(v: float) -> str:
    """Go's ``%v`` of a float64 for the plain values the rules print (0, 1, 4, 0.5)."""
    return str(int(v)) if v == int(v) else repr(v)


_VALUE_FUNCS: dict[str, Callable[[float], str]] = {
    "$value": _go_float,
    "$value | humanize": humanize,
    "$value | humanizeDuration": humanize_duration,
    "$value | humanizePercentage": humanize_percentage,
}


def render(template: str, value: float, labels: Mapping[str, str], queries: Mapping[str, float]) -> str:
    """Render the subset of Go template syntax the csvbot rules use; anything else is an error."""
    text = _RANGE_QUERY.sub(lambda m: _go_float(queries[m.group(1)]), template)

    def with_query(m: re.Match[str]) -> str:
        query, func, default = m.groups()
        return str(_VALUE_FUNCS[f"$value | {func}"](queries[query])) if query in queries else default

    text = _WITH_QUERY.sub(with_query, text)

    def token(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("$labels."):
            return labels[expr.removeprefix("$labels.")]
        return str(_VALUE_FUNCS[expr](value))

    text = _TOKEN.sub(token, text)
    if "{{" in text:
        raise ValueError(f"template syntax the renderer does not know: {text!r}")
    return text


def expect(
    rule: AlertRule,
    value: float,
    labels: Mapping[str, str],
    queries: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The ``exp_alerts`` entry for ``rule`` firing with ``value`` on a series with ``labels``."""
    # Prometheus expands templates with the sample's labels, before the rule's own are added.
    return {
        "exp_labels": {**labels, **rule.labels, "severity": rule.severity},
        "exp_annotations": {
            "summary": rule.summary,
            "description": render(rule.description, value, labels, queries or {}),
            "runbook_url": rule.runbook_url,
        },
    }


def rules_named(alertname: str) -> list[AlertRule]:
    """The production rules of ``alertname`` (burn-rate alerts have one per window pair)."""
    found = [a for a in all_alerts() if a.alert == alertname]
    if not found:
        raise KeyError(f"no alert named {alertname}")
    return found


def rule_named(alertname: str) -> AlertRule:
    (rule,) = rules_named(alertname)
    return rule
