"""Typed rule objects: what a recording rule, an alert and a rule group must carry.

An :class:`AlertRule` cannot be built without a severity, a summary and a description, and its
runbook URL is derived from its name, so no alert can reach the YAML without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from promlib.runbooks import runbook_url

Severity = Literal["critical", "warning"]


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"record": self.record, "expr": self.expr}
        if self.labels:
            out["labels"] = dict(self.labels)
        return out


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule. ``hold`` is the ``for`` clause (``None``: fire on the first match)."""

    alert: str
    expr: str
    severity: Severity
    summary: str
    description: str
    hold: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "$value" not in self.description:
            raise ValueError(f"{self.alert}: the description must show the live value ($value)")

    @property
    def runbook_url(self) -> str:
        return runbook_url(self.alert)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "alert": self.alert,
            "expr": self.expr,
            "labels": {**self.labels, "severity": self.severity},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": self.runbook_url,
            },
        }
        if self.hold is not None:
            out["for"] = self.hold
        return out


Rule = RecordingRule | AlertRule


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: Sequence[Rule]
    interval: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "rules": [r.to_dict() for r in self.rules]}
        if self.interval is not None:
            out["interval"] = self.interval
        return out

    @property
    def alerts(self) -> list[AlertRule]:
        return [r for r in self.rules if isinstance(r, AlertRule)]
