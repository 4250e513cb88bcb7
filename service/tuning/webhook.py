"""Alertmanager's webhook receiver, in the bot process (``SESSION_LIMIT_TUNING=alerts``).

``POST /alertmanager`` with ``Authorization: Bearer $ALERT_WEBHOOK_TOKEN`` and Alertmanager's
webhook payload (version 4). What it refuses, each with a log line and
``csvbot_alert_webhook_requests_total{outcome}``:

* no or a wrong token: 401 (``unauthorized``);
* a body over :data:`~telemetry.slo.ALERT_WEBHOOK_MAX_BYTES`: 413 (``too_large``);
* anything that is not a webhook payload: 400 (``malformed``).

Per alert of an accepted payload (``csvbot_alert_webhook_alerts_total{outcome}``): a tuning alert
that fires runs the runbook rule (``acted``); an inhibiting alert (storage timeouts) holds tuning
while it fires (``acted``); a notification already handled within the cooldown — Alertmanager
re-sends firing alerts every ``repeat_interval`` and retries failed deliveries — is ``replayed``;
an alert csvbot does not tune on is ``unknown``; a resolved one is ``resolved``. None of these
changes the limit except through the rule.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections import OrderedDict
from typing import Any

from aiohttp import web

from service.tuning.tuner import Tuner
from telemetry import slo
from telemetry.metrics import Metrics

log = logging.getLogger(__name__)

PATH = "/alertmanager"
#: How many handled notifications are remembered for replay detection.
SEEN_MAX = 1024
#: An inhibiting alert counts as firing this long after its last notification unless resolved:
#: Alertmanager re-sends firing alerts at least every repeat_interval (see alertmanager.yml).
INHIBIT_SECONDS = 3600.0


class Malformed(ValueError):
    """The body is not an Alertmanager webhook payload."""


class AlertWebhook:
    def __init__(self, tuner: Tuner, metrics: Metrics, *, token: str) -> None:
        self._tuner = tuner
        self._metrics = metrics
        self._token = f"Bearer {token}".encode()
        #: (fingerprint, status, startsAt) → monotonic time handled.
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=slo.ALERT_WEBHOOK_MAX_BYTES)
        app.router.add_post(PATH, self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, self._token):
            return self._refuse(request, 401, "unauthorized", "missing or wrong bearer token")
        if (request.content_length or 0) > slo.ALERT_WEBHOOK_MAX_BYTES:
            return self._refuse(request, 413, "too_large", f"body of {request.content_length} bytes")
        try:
            body = await request.json()
            alerts = _alerts(body)
        except web.HTTPRequestEntityTooLarge:
            return self._refuse(request, 413, "too_large", "body over the limit")
        except (ValueError, Malformed) as exc:
            return self._refuse(request, 400, "malformed", str(exc)[:200])
        self._metrics.alert_webhook_requests.labels("ok").inc()
        results = [await self._one(alert) for alert in alerts]
        return web.json_response({"results": results})

    def _refuse(self, request: web.Request, status: int, outcome: str, detail: str) -> web.Response:
        self._metrics.alert_webhook_requests.labels(outcome).inc()
        log.warning(
            "alert webhook request refused",
            extra={
                "event": "alert_webhook_refused",
                "outcome": outcome,
                "status": status,
                "detail": detail,
                "remote": request.remote,
            },
        )
        return web.json_response({"error": outcome, "detail": detail}, status=status)

    async def _one(self, alert: dict[str, Any]) -> dict[str, str]:
        name, status = alert["labels"]["alertname"], alert["status"]
        key = (
            str(alert.get("fingerprint") or sorted(alert["labels"].items())),
            status,
            str(alert["startsAt"]),
        )
        known = name in slo.TUNING_ALERTS or name in slo.TUNING_INHIBITING_ALERTS
        if not known:
            return self._count(name, "unknown", "not an alert csvbot tunes on; ignored")
        now = time.monotonic()
        self._forget_old(now)
        if key in self._seen:
            return self._count(name, "replayed", "already handled within the cooldown; ignored")
        self._seen[key] = now
        if name in slo.TUNING_INHIBITING_ALERTS:
            self._tuner.inhibit(name, firing=status == "firing", for_seconds=INHIBIT_SECONDS)
            if status == "firing":
                signals = await self._tuner.ledger_signals(waits_high=True)
                await self._tuner.pressure(signals, source="alerts", trigger=name)
                return self._count(name, "acted", "tuning held while it fires")
            return self._count(name, "resolved", "tuning no longer held")
        if status != "firing":
            return self._count(name, "resolved", "resolved")
        signals = await self._tuner.ledger_signals(waits_high=True)
        decision = await self._tuner.pressure(signals, source="alerts", trigger=name)
        detail = decision.describe() if decision is not None else "same refusal as before; not repeated"
        return self._count(name, "acted", detail)

    def _count(self, name: str, outcome: str, detail: str) -> dict[str, str]:
        self._metrics.alert_webhook_alerts.labels(outcome).inc()
        level = logging.INFO if outcome in ("acted", "resolved") else logging.WARNING
        log.log(
            level,
            f"alert {name}: {detail}",
            extra={"event": "alert_webhook_alert", "alertname": name, "outcome": outcome},
        )
        return {"alertname": name, "outcome": outcome, "detail": detail}

    def _forget_old(self, now: float) -> None:
        horizon = max(self._tuner.cooldown, 60.0)
        while self._seen and (len(self._seen) > SEEN_MAX or now - next(iter(self._seen.values())) > horizon):
            self._seen.popitem(last=False)


def _alerts(body: Any) -> list[dict[str, Any]]:
    """The alerts of a webhook payload, checked field by field (nothing else is trusted)."""
    if not isinstance(body, dict) or not isinstance(body.get("alerts"), list):
        raise Malformed("not an Alertmanager webhook payload: no 'alerts' list")
    alerts: list[dict[str, Any]] = body["alerts"]
    for alert in alerts:
        if not isinstance(alert, dict):
            raise Malformed("an alert is not an object")
        labels = alert.get("labels")
        if not isinstance(labels, dict) or not isinstance(labels.get("alertname"), str):
            raise Malformed("an alert has no labels.alertname")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise Malformed("alert labels must be strings")
        if alert.get("status") not in ("firing", "resolved"):
            raise Malformed("an alert's status is neither 'firing' nor 'resolved'")
        if not isinstance(alert.get("startsAt"), str):
            raise Malformed("an alert has no startsAt")
    return alerts
