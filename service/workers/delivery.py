"""Delivery: sending a done job's result to its user, as a step of its own after ``done``.

``finish_job`` hands the delivery to the finishing worker (its token is ``delivery_attempts``,
its lease ``delivery_lease_expires_at``). The deliverer keeps that lease while it sends — renewed
in the background, and once more right before each document goes out, so a deliverer whose claim
was taken over never sends again. Each result document that reached the user is recorded on its
own (``job_deliveries``) right after it was sent, and the job is marked ``delivered`` after the
last one. A delivery that fails is retried a few times in place, then released with a backoff
for the sweeper to claim again; one that dies with its worker is claimed again once its lease
expires. A deliverer that takes over sends only the documents not recorded, marked "sent again".

What can repeat: Telegram cannot say whether a request in flight when its sender died arrived,
so the one document being sent at that moment may reach the user twice. Nothing else does.

A delivery never fails the job: the job is done, whatever happens to the sending of its result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNotFound
from aiogram.types import FSInputFile, Message
from aiogram.utils.formatting import Text

from service import messages
from service.db import RESULT_DOCUMENTS, Job
from service.deps import Services
from service.errors import CsvbotError, InternalError, RetryableError
from service.exports.formats import EXTENSIONS
from service.i18n.users import speaking_to
from service.results.send import upload_action
from service.results.summary import result_text
from telemetry import slo

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A file name Telegram shows; longer ones are cut (the job id in the caption identifies it).
MAX_STEM_CHARS = 64
#: Control characters (CR/LF break the multipart header Telegram parses: a 400), path separators
#: and quotes never reach a file name we send.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/]+')
#: Telegram refuses these for good: the bot was blocked, the chat is gone, the request is wrong.
PERMANENT_TELEGRAM_ERRORS = (TelegramForbiddenError, TelegramNotFound, TelegramBadRequest)


def safe_stem(file_name: str) -> str:
    """The user's file name without its extension, fit to be a document's name in a chat."""
    stem = Path(_UNSAFE.sub(" ", file_name).strip()).stem
    stem = " ".join(stem.split())[:MAX_STEM_CHARS].strip(" .")
    return stem or "data"


def document_name(job: Job, document: str) -> str:
    """``sales.cleaned.xlsx``: the extension of the format the job's results were written in."""
    output_format = str((job.summary or {}).get("output_format") or "csv")
    return f"{safe_stem(job.file_name)}.{document}{EXTENSIONS.get(output_format, '.csv')}"


def result_caption(job: Job, *, resend: bool = False) -> Text:
    """The result message, from the job's stored summary, so a resend says what the first said:
    the job id leads (the user, and the simulator, match a result to its upload by it), then the
    table's overview and the per-column block, in the current language, within Telegram's
    1,024-character caption."""
    summary = job.summary or {}
    return result_text(job.id, summary, summary.get("column_profiles") or [], resend=resend)


def delivery_backoff(delivery_attempt: int) -> float:
    """Full jitter, doubling from DELIVERY_BACKOFF_BASE_SECONDS, capped."""
    ceiling = min(
        slo.DELIVERY_BACKOFF_CAP_SECONDS, slo.DELIVERY_BACKOFF_BASE_SECONDS * 2 ** (delivery_attempt - 1)
    )
    return random.uniform(ceiling / 2, ceiling)


class DeliveryFenced(Exception):
    """Another deliverer holds this job's delivery now: stop and send nothing more."""


class Deliverer:
    """Sends results. ``deliver`` never raises (except cancellation): it returns the outcome."""

    def __init__(
        self,
        services: Services,
        bot: Bot,
        *,
        send_attempts: int = slo.DELIVERY_SEND_ATTEMPTS,
        retry_pause: Callable[[int], float] | None = None,
        lease_seconds: float | None = None,
    ) -> None:
        self.services = services
        self.bot = bot
        self.send_attempts = send_attempts
        #: How long a delivery claim lasts: the sweeper claims the same length.
        self.lease_seconds = lease_seconds or services.settings.job_lease_seconds
        self._pause = retry_pause or (lambda attempt: random.uniform(0, min(8.0, 0.5 * 2**attempt)))

    async def deliver(self, job: Job, *, files: Mapping[str, Path] | None = None) -> str:
        """Send what of ``job``'s result is not recorded yet. ``files``: the local results of the
        worker that just finished it (it speaks the user's language already); without them the
        results are read from storage (a takeover) and the user's language is looked up here.
        Returns the ``csvbot_deliveries_total`` outcome."""
        if files is not None:
            return await self._deliver(job, files)
        async with speaking_to(self.services, job.user_id):
            return await self._deliver(job, files)

    async def _deliver(self, job: Job, files: Mapping[str, Path] | None) -> str:
        metrics = self.services.metrics
        token = job.delivery_attempts
        try:
            async with self._leased(job, token):
                with tempfile.TemporaryDirectory(prefix=f"csvbot-deliver-{job.id}-") as tmp:
                    await self._send_missing(job, token, files, Path(tmp))
                if (
                    await self._retry(
                        lambda: self.services.repo.mark_delivered(job.id, delivery_attempt=token)
                    )
                    is None
                ):
                    raise DeliveryFenced
        except DeliveryFenced:
            metrics.fenced_writes.labels("deliver").inc()
            metrics.deliveries.labels("fenced").inc()
            log.warning(
                "delivery refused: another worker holds this job's delivery now; sending nothing more",
                extra={"event": "delivery_fenced", "job_id": job.id, "delivery_attempt": token},
            )
            return "fenced"
        except PERMANENT_TELEGRAM_ERRORS as exc:
            return await self._give_up(job, token, exc)
        except Exception as exc:
            return await self._release(job, token, exc)
        metrics.deliveries.labels("delivered").inc()
        log.info(
            "result delivered",
            extra={"event": "result_delivered", "job_id": job.id, "delivery_attempt": token},
        )
        return "delivered"

    @contextlib.asynccontextmanager
    async def _leased(self, job: Job, token: int) -> AsyncIterator[None]:
        """Renew the delivery lease every third of it while the body runs: retries, 429 waits and
        a large document can take longer than one lease, and a lease that runs out hands the
        delivery to another worker, which would send the same documents again."""
        keeper = asyncio.get_running_loop().create_task(
            self._keep_lease(job, token), name=f"delivery-lease-{job.id}"
        )
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep_lease(self, job: Job, token: int) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if not await self._renew(job, token):
                    return  # taken over: the check before the next send refuses it
            except Exception as exc:  # the lease has slack; the next renewal may succeed
                log.warning(
                    "could not extend the delivery lease",
                    extra={
                        "event": "delivery_lease_unrenewed",
                        "job_id": job.id,
                        "error": type(exc).__name__,
                    },
                )

    async def _renew(self, job: Job, token: int) -> bool:
        return await self.services.repo.renew_delivery(
            job.id, delivery_attempt=token, lease_seconds=self.lease_seconds
        )

    async def _send_missing(self, job: Job, token: int, files: Mapping[str, Path] | None, tmp: Path) -> None:
        metrics = self.services.metrics
        already = await self._retry(lambda: self.services.repo.delivered_documents(job.id))
        # A takeover (or a worker that recorded part of it) may repeat what was in flight: say so.
        resend = files is None or bool(already)
        if files is None and not already:
            with contextlib.suppress(Exception):  # the progress message is best-effort
                if job.progress_message_id is not None:
                    await self.bot.edit_message_text(
                        text=messages.done(job.id), chat_id=job.chat_id, message_id=job.progress_message_id
                    )
        caption = result_caption(job, resend=resend)
        file_ids: dict[str, str] = {}
        try:
            for document in RESULT_DOCUMENTS:
                if document not in already:
                    # The cleaned file carries the summary; a resent profile says it is a resend.
                    text = (
                        caption
                        if document == "cleaned"
                        else (Text(messages.result_caption_resent(job.id)) if resend else None)
                    )
                    sent = await self._send_one(job, token, document, caption=text, files=files, tmp=tmp)
                    metrics.documents_sent.labels("resend" if resend else "first").inc()
                    if sent.document is not None:
                        file_ids[document] = sent.document.file_id
        finally:
            await self._record_file_ids(job, file_ids)

    async def _record_file_ids(self, job: Job, file_ids: Mapping[str, str]) -> None:
        """So that ``/job`` sends the documents again by file id; without them it falls back to
        storage, so a failure here is only logged."""
        if not file_ids:
            return
        try:
            await self.services.repo.set_result_file_ids(
                job.id, file_ids.get("cleaned"), file_ids.get("profile")
            )
        except CsvbotError as exc:
            log.warning(
                "could not record the results' file ids",
                extra={"event": "file_ids_unrecorded", "job_id": job.id, "error_kind": exc.kind},
            )

    async def _send_one(
        self,
        job: Job,
        token: int,
        document: str,
        *,
        caption: Text | None,
        files: Mapping[str, Path] | None,
        tmp: Path,
    ) -> Message:
        async def send() -> Message:
            path = files[document] if files is not None else await self._download(job, document, tmp)
            # Checked right before the document goes out: a claim taken over sends nothing more.
            if not await self._renew(job, token):
                raise DeliveryFenced
            return await self._send(job, document, path, caption)

        async def record() -> bool:
            return await self.services.repo.record_document_delivered(
                job.id, document, delivery_attempt=token
            )

        sent = await self._retry(send)
        if not await self._retry(record):
            raise DeliveryFenced
        return sent

    async def _download(self, job: Job, document: str, tmp: Path) -> Path:
        key = job.cleaned_key if document == "cleaned" else job.profile_key
        if key is None:
            raise InternalError(f"done job {job.id} has no {document} key")
        folder = tmp / document
        folder.mkdir(exist_ok=True)
        return await self.services.storage.download_to_file(key, folder)

    async def _send(self, job: Job, document: str, path: Path, caption: Text | None) -> Message:
        await upload_action(self.bot, job.chat_id)  # "sending a file…" while it uploads
        return await self.bot.send_document(
            job.chat_id,
            FSInputFile(path, filename=document_name(job, document)),
            **(caption.as_caption_kwargs() if caption is not None else {}),
        )

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        """A few tries in place for a failure that may pass (storage, database, Telegram 5xx);
        a permanent refusal or the last failure goes up."""
        for attempt in range(1, self.send_attempts + 1):
            try:
                return await call()
            except (DeliveryFenced, *PERMANENT_TELEGRAM_ERRORS):
                raise
            except Exception:
                if attempt == self.send_attempts:
                    raise
                await asyncio.sleep(self._pause(attempt))
        raise AssertionError("unreachable")

    async def _give_up(self, job: Job, token: int, exc: Exception) -> str:
        metrics = self.services.metrics
        metrics.deliveries.labels("given_up").inc()
        metrics.count_error("telegram", "telegram_unavailable")
        log.error(
            "Telegram refused the result for good; not sending it again",
            extra={"event": "delivery_given_up", "job_id": job.id, "error": type(exc).__name__},
        )
        with contextlib.suppress(Exception):
            await self.services.repo.give_up_delivery(
                job.id, delivery_attempt=token, error=f"{type(exc).__name__}: {exc}"
            )
        return "given_up"

    async def _release(self, job: Job, token: int, exc: Exception) -> str:
        """Let the sweeper try again after a backoff; if even that cannot be recorded, the
        delivery lease expires and the sweeper tries then."""
        metrics = self.services.metrics
        metrics.deliveries.labels("retry").inc()
        kind = exc.kind if isinstance(exc, RetryableError) else "internal"
        metrics.count_error("worker", kind)
        wait = delivery_backoff(token)
        log.warning(
            "could not deliver the result; the sweeper will try again",
            exc_info=not isinstance(exc, RetryableError),
            extra={
                "event": "delivery_retry",
                "job_id": job.id,
                "delivery_attempt": token,
                "error": type(exc).__name__,
                "retry_in_seconds": round(wait, 1),
            },
        )
        with contextlib.suppress(Exception):
            await self.services.repo.release_delivery(job.id, delivery_attempt=token, retry_in_seconds=wait)
        return "retry"
