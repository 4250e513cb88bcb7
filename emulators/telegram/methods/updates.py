"""getUpdates and the webhook methods: setWebhook, deleteWebhook, getWebhookInfo."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from emulators.telegram.errors import bad_request, conflict
from emulators.telegram.methods.common import MethodHandler
from emulators.telegram.params import Params
from emulators.telegram.state import EmulatorState, WebhookConfig

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
DEFAULT_MAX_CONNECTIONS = 40
# Telegram caps a long poll at 50 s; capping here too keeps a misconfigured client honest.
MAX_POLL_TIMEOUT = 50


def _allowed_updates(params: Params) -> list[str] | None:
    allowed = params.get_json("allowed_updates")
    if allowed is None:
        return None
    if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
        raise bad_request("can't parse allowed_updates JSON array")
    return allowed


async def get_updates(state: EmulatorState, params: Params) -> list[dict[str, Any]]:
    if state.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    state.updates.set_allowed(_allowed_updates(params))
    timeout = max(0, min(params.get_int("timeout") or 0, MAX_POLL_TIMEOUT))
    updates = await state.updates.poll(
        offset=params.get_int("offset") or 0,
        limit=params.get_int("limit") or 0,
        timeout=timeout,
    )
    return [update.to_json() for update in updates]


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def set_webhook(state: EmulatorState, params: Params) -> bool:
    url = params.get_str("url") or ""
    if not url:
        # An empty URL is Telegram's other way of removing the webhook.
        state.webhook = None
        return True
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not _is_loopback(parts.hostname):
        # The emulator must never send traffic off this machine.
        raise bad_request("bad webhook: the emulator delivers only to loopback addresses")
    secret = params.get_str("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.get_int("max_connections") or DEFAULT_MAX_CONNECTIONS
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = _allowed_updates(params)
    state.updates.set_allowed(allowed)
    if params.get_bool("drop_pending_updates"):
        state.updates.drop_all()
    state.webhook = WebhookConfig(url, secret, max_connections, allowed)
    state.updates.wake()
    return True


async def delete_webhook(state: EmulatorState, params: Params) -> bool:
    state.webhook = None
    if params.get_bool("drop_pending_updates"):
        state.updates.drop_all()
    return True


async def get_webhook_info(state: EmulatorState, params: Params) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    hook = state.webhook
    if hook is not None:
        info["url"] = hook.url
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


METHODS: dict[str, MethodHandler] = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
