"""Bot API errors in Telegram's exact wire shape.

Telegram answers every failure with ``{"ok": false, "error_code": N, "description": "..."}``
and, for flood control, ``"parameters": {"retry_after": N}``. aiogram picks its exception class
from the HTTP status and ``parameters`` (``TelegramRetryAfter``, ``TelegramBadRequest``, …), so
the status code and the body must agree, as they do on Telegram's servers.
"""

from __future__ import annotations

from typing import Any

# The 5xx descriptions Telegram's front-ends use. "restart" is avoided on purpose: aiogram maps a
# description containing it to RestartingTelegram rather than TelegramServerError.
SERVER_ERROR_DESCRIPTIONS: dict[int, str] = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class BotApiError(Exception):
    """A Bot API call that fails; rendered as Telegram's error object with the same status."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(problem: str) -> BotApiError:
    """A 400 with Telegram's ``Bad Request: <problem>`` description."""
    return BotApiError(400, f"Bad Request: {problem}")


def unauthorized() -> BotApiError:
    return BotApiError(401, "Unauthorized")


def method_not_found() -> BotApiError:
    return BotApiError(404, "Not Found: method not found")


def not_found() -> BotApiError:
    return BotApiError(404, "Not Found")


def conflict(problem: str) -> BotApiError:
    return BotApiError(409, f"Conflict: {problem}")


def entity_too_large() -> BotApiError:
    return BotApiError(413, "Request Entity Too Large")


def too_many_requests(retry_after: int) -> BotApiError:
    return BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def server_error(status: int) -> BotApiError:
    if not 500 <= status <= 599:
        raise ValueError(f"server error status must be 5xx, got {status}")
    return BotApiError(status, SERVER_ERROR_DESCRIPTIONS.get(status, "Internal Server Error"))
