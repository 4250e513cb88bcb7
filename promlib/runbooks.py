"""Where each alert's runbook lives: a section of README.md whose heading is the alert name."""

from __future__ import annotations

#: Relative to the repository root; Alertmanager and Grafana show
#: it as a link. Deployments that publish the README elsewhere can prefix it in their receivers.
RUNBOOK_DOCUMENT = "README.md"


def anchor(alertname: str) -> str:
    """The anchor GitHub gives a heading that is exactly ``alertname`` (lower-cased)."""
    return alertname.lower()


def runbook_url(alertname: str) -> str:
    return f"{RUNBOOK_DOCUMENT}#{anchor(alertname)}"
