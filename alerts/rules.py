"""The rule files: which groups exist and what goes into each file.

``rule_files(timing)`` is the whole rule set as file name → groups. The committed copy uses
:data:`~alerts.timing.PRODUCTION`; the live test asks for :data:`~alerts.timing.FAST` (see
:func:`alerts.generate.generate_rules`).
"""

from __future__ import annotations

from collections.abc import Sequence

from alerts import burn_rate, recording
from alerts.model import AlertRule, RuleGroup
from alerts.runtime_alerts import runtime_alerts
from alerts.service_alerts import service_alerts
from alerts.telegram_alerts import telegram_and_log_alerts
from alerts.timing import PRODUCTION, Timing
from promlib import names

RECORDING_FILE = "recording.rules.yaml"
ALERTS_FILE = "alerts.rules.yaml"


def rule_files(
    timing: Timing = PRODUCTION, scrape_jobs: Sequence[str] = names.SCRAPE_JOBS
) -> dict[str, list[RuleGroup]]:
    """File name → rule groups. ``scrape_jobs`` are the ``job`` labels the target alerts watch."""
    alerts = RuleGroup(
        name="csvbot.alerts",
        rules=[
            *service_alerts(timing),
            *runtime_alerts(timing, scrape_jobs),
            *telegram_and_log_alerts(timing),
        ],
        interval=timing.interval,
    )
    return {
        RECORDING_FILE: [recording.recording_group(timing), burn_rate.recording_group(timing)],
        ALERTS_FILE: [alerts, burn_rate.alert_group(timing)],
    }


def all_alerts(timing: Timing = PRODUCTION) -> list[AlertRule]:
    return [a for groups in rule_files(timing).values() for g in groups for a in g.alerts]


def alert_names(timing: Timing = PRODUCTION) -> list[str]:
    """Each alert name once, in rule order."""
    return list(dict.fromkeys(a.alert for a in all_alerts(timing)))


def recorded_names(timing: Timing = PRODUCTION) -> set[str]:
    return {
        r.record
        for groups in rule_files(timing).values()
        for g in groups
        for r in g.rules
        if not isinstance(r, AlertRule)
    }
