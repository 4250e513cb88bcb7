"""The Telegram Bot API client, apart from the dispatcher (as aiogram keeps ``client/``).

A worker needs only this: :func:`build_bot` and the session middleware that measures, traces and
retries every API call. The bot process adds the dispatcher (:mod:`service.bot`) on top.
"""

from service.telegram.client import build_bot, shut_down_session

__all__ = ["build_bot", "shut_down_session"]
