"""Fetch a user's file from Telegram, riding out rate limits and short outages.

``Bot.download`` is ``getFile`` (a Bot API call, retried by the session middleware) followed by a
plain GET of ``/file/bot<token>/<path>``, which aiogram does outside the session middleware: a 429
or 5xx there reaches the caller as a bare ``aiohttp.ClientResponseError``. The GET only reads, so
it is always safe to repeat; it is retried for as long as a time budget allows rather than a
fixed number of times, because under a 429 storm where every other call is refused, five quick
attempts still lose about one upload in thirty. A 4xx other than 429 is not retried: Telegram no
longer has the file, and asking again changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from pathlib import Path

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from opentelemetry import trace

from service import messages
from service.errors import TelegramFileGoneError, TelegramUnavailableError
from service.telegram.api_session import method_label
from telemetry.metrics import Metrics

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

#: How long a download keeps trying through 429s, 5xx and network errors before the upload is
#: answered with "Telegram is not giving me your file": the Bot API session's flood-wait bound.
DOWNLOAD_RETRY_BUDGET_SECONDS = 60.0
#: Backoff between attempts: doubling from the base, capped, with half of it jittered (never near
#: zero, so a storm of refusals is not answered with a burst of immediate retries).
DOWNLOAD_BACKOFF_BASE_SECONDS = 0.5
DOWNLOAD_BACKOFF_CAP_SECONDS = 4.0
#: Telegram's smallest ``retry_after``: the wait after a 429 that names none.
MIN_RETRY_AFTER_SECONDS = 1.0

_LABEL = method_label("downloadFile")


def _backoff(attempt: int) -> float:
    ceiling: float = min(DOWNLOAD_BACKOFF_CAP_SECONDS, DOWNLOAD_BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _retry_after(exc: aiohttp.ClientResponseError) -> float:
    raw = exc.headers.get("Retry-After") if exc.headers is not None else None
    try:
        seconds = float(str(raw)) if raw is not None else 0.0
    except ValueError:
        seconds = 0.0
    return max(MIN_RETRY_AFTER_SECONDS, seconds)


def _classify_status(exc: aiohttp.ClientResponseError, attempt: int) -> tuple[str, float | None]:
    if exc.status == 429:
        return "retry_after", _retry_after(exc)
    if exc.status >= 500:
        return "server_error", _backoff(attempt)
    return "client_error", None


def _classify(exc: BaseException, attempt: int) -> tuple[str, float | None]:
    """The metric status of a failed attempt and the wait before the next (``None``: give up)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return _classify_status(exc, attempt)
    # getFile already used up the session middleware's own retries: more, within our budget.
    if isinstance(exc, TelegramRetryAfter):
        return "retry_after", max(float(exc.retry_after), _backoff(attempt))
    if isinstance(exc, TelegramServerError):
        return "server_error", _backoff(attempt)
    if isinstance(exc, aiohttp.ClientError | TelegramNetworkError | TimeoutError):
        return "network_error", _backoff(attempt)
    # Any other Bot API error from getFile ("file is too big", "wrong file_id"): final.
    return "client_error", None


async def download_file(bot: Bot, metrics: Metrics, file_id: str, destination: Path, file_name: str) -> None:
    """Stream ``file_id`` to ``destination``, measured like any Bot API call.

    Raises :class:`TelegramFileGoneError` when Telegram refuses the file for good and
    :class:`TelegramUnavailableError` when it kept failing for the whole budget; both carry a
    message for the user (their file was not saved: they must send it again).
    """
    started_all = time.monotonic()
    with _tracer.start_as_current_span("telegram.download_file") as span:
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            status = "network_error"  # what anything unforeseen is counted as (as before)
            try:
                await bot.download(file_id, destination=destination)
                status = "ok"
                span.set_attribute("telegram.attempts", attempt)
                return
            except (aiohttp.ClientError, TimeoutError, TelegramAPIError) as exc:
                status, delay = _classify(exc, attempt)
                failure = exc
            finally:
                metrics.telegram_requests.labels(_LABEL, status).inc()
                metrics.telegram_request_duration.labels(_LABEL).observe(time.perf_counter() - started)
            span.set_attribute("telegram.attempts", attempt)
            if delay is None:
                raise TelegramFileGoneError(
                    f"Telegram refused the file: {failure}",
                    user_message=messages.telegram_file_gone(file_name),
                ) from failure
            if time.monotonic() - started_all + delay > DOWNLOAD_RETRY_BUDGET_SECONDS:
                raise TelegramUnavailableError(
                    f"file download kept failing for {attempt} attempts: {failure}",
                    user_message=messages.telegram_download_failed(file_name),
                ) from failure
            log.info(
                "file download failed with %s; retrying in %.2f s",
                status,
                delay,
                extra={
                    "event": "download_retry",
                    "attempt": attempt,
                    "status": status,
                    "delay_seconds": delay,
                },
            )
            await asyncio.sleep(delay)
