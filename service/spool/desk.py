"""Accept uploads through the spool, and finish the ones that had to wait.

Every downloaded upload is committed to the spool (fsynced) before its first step, so an upload
survives a dependency outage, a shutdown mid-step and a crash alike; it leaves the spool once its
task is on the queue. An upload whose step fails because storage, the database or the broker is
down stays spooled: the user is told once that the file is kept, and a background task retries
with capped, full-jitter backoff until the job is queued (then the normal progress follows) or
``SPOOL_MAX_AGE_SECONDS`` pass (then the user is told to send it again). What a stopped process
left in the spool is replayed when the next one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from pathlib import Path

from aiogram import Bot

from service import messages
from service.config import Settings
from service.deps import Services
from service.errors import CsvbotError
from service.i18n.users import speaking_to
from service.spool.entry import SpoolEntry, Stage
from service.spool.steps import DependencyDown, advance
from service.spool.store import Spool, SpoolFullError
from telemetry import slo

log = logging.getLogger(__name__)


class UploadDesk:
    def __init__(
        self, services: Services, bot: Bot, spool: Spool, *, max_age_seconds: float, retry_cap_seconds: float
    ) -> None:
        self.services = services
        self.bot = bot
        self.spool = spool
        self.max_age_seconds = max_age_seconds
        self.retry_cap_seconds = retry_cap_seconds
        self._waiting: dict[str, SpoolEntry] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> int:
        """Open the spool and replay what a previous process left; returns how many entries."""
        entries = self.spool.open()
        for entry in entries:
            self._schedule(entry, reason="restart")
        if entries:
            log.info("replaying spooled uploads", extra={"event": "spool_replay", "entries": len(entries)})
        return len(entries)

    async def stop(self) -> None:
        """Stop retrying; what is still waiting stays spooled for the next process."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    def waiting_for_user(self, user_id: int) -> int:
        """Uploads of ``user_id`` waiting in the spool without a job row yet (quota counting)."""
        return sum(1 for e in self._waiting.values() if e.user_id == user_id and e.stage < Stage.RECORDED)

    def bytes_waiting_for_user(self, user_id: int) -> int:
        """Bytes of those uploads: the daily byte quota counts them like recorded ones."""
        return sum(
            e.size for e in self._waiting.values() if e.user_id == user_id and e.stage < Stage.RECORDED
        )

    async def accept(self, entry: SpoolEntry, downloaded: Path) -> bool:
        """Store, record and queue a downloaded upload; ``True`` if it is queued now, ``False``
        if it waits in the spool (the user has been told). Raises the dependency's error, with a
        message that says the file was *not* kept, when the spool is full."""
        metrics = self.services.metrics
        try:
            # In a thread, as every spool call here that touches the disk: the fsync of a big
            # upload must not hold the event loop. A shutdown while it runs leaves the entry
            # committed or not, and the next process replays what is committed.
            data, kept = await asyncio.to_thread(self.spool.commit, entry, downloaded), True
        except SpoolFullError:
            data, kept = downloaded, False
        try:
            await advance(self.services, self.bot, entry, data, _ignore, replay=False)
        except DependencyDown as down:
            if not kept:
                metrics.spool_full.inc()
                log.warning(
                    "spool full: an upload was refused during an outage",
                    extra={"event": "spool_full", "job_id": entry.job_id, "dependency": down.dependency},
                )
                await asyncio.to_thread(self.spool.discard_incoming, entry.job_id)
                down.cause.user_message = messages.spool_full(down.dependency)
                raise down.cause from None
            entry.waiting_for = down.dependency
            await asyncio.to_thread(self.spool.save, entry)
            metrics.spool_spooled.labels(down.dependency).inc()
            log.warning(
                "upload spooled until %s is back",
                down.dependency,
                extra={"event": "upload_spooled", "job_id": entry.job_id, "error_kind": down.cause.kind},
            )
            await self._edit(entry, messages.waiting_for(entry.file_name, down.dependency))
            self._schedule(entry, reason=down.dependency)
            return False
        except asyncio.CancelledError:
            raise  # shutdown mid-step: the committed entry is replayed by the next process
        except BaseException:
            await self._drop(entry, kept)
            raise
        await self._drop(entry, kept)
        return True

    async def _drop(self, entry: SpoolEntry, kept: bool) -> None:
        drop = self.spool.remove if kept else self.spool.discard_incoming
        await asyncio.to_thread(drop, entry.job_id)

    def _schedule(self, entry: SpoolEntry, *, reason: str) -> None:
        self._waiting[entry.job_id] = entry
        task = asyncio.get_running_loop().create_task(
            self._replay(entry, reason), name=f"spool-{entry.job_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replay(self, entry: SpoolEntry, reason: str) -> None:
        try:
            if reason == "restart":  # no update to take the user's language from: look it up
                async with speaking_to(self.services, entry.user_id):
                    await self._retry_until_queued(entry, reason)
            else:  # started from the upload's handler: its task inherited the user's language
                await self._retry_until_queued(entry, reason)
        finally:
            self._waiting.pop(entry.job_id, None)

    async def _retry_until_queued(self, entry: SpoolEntry, reason: str) -> None:
        metrics = self.services.metrics
        attempt = 0 if reason == "restart" else 1
        while True:
            if attempt:
                # Full jitter: a hundred waiting uploads do not hit a recovering service at once.
                await asyncio.sleep(random.uniform(0, min(self.retry_cap_seconds, 0.5 * 2**attempt)))
            attempt += 1
            if time.time() - entry.accepted_at > self.max_age_seconds:
                await self._expire(entry)
                return
            try:
                await advance(
                    self.services,
                    self.bot,
                    entry,
                    self.spool.data_path(entry.job_id),
                    self.spool.save,
                    replay=True,
                )
            except DependencyDown as down:
                if entry.waiting_for != down.dependency:
                    entry.waiting_for = down.dependency
                    await asyncio.to_thread(self.spool.save, entry)
                continue
            except CsvbotError as exc:  # permanent: retrying cannot help
                log.error(
                    "spooled upload failed for good",
                    extra={"event": "spool_failed", "job_id": entry.job_id, "error_kind": exc.kind},
                )
                metrics.count_error("bot", exc.kind)
                await asyncio.to_thread(self.spool.remove, entry.job_id)
                await self._edit(entry, messages.spool_failed(entry.file_name))
                return
            metrics.spool_replayed.labels(reason).inc()
            log.info(
                "spooled upload queued",
                extra={
                    "event": "spool_replayed",
                    "job_id": entry.job_id,
                    "reason": reason,
                    "attempts": attempt,
                },
            )
            await asyncio.to_thread(self.spool.remove, entry.job_id)
            return

    async def _expire(self, entry: SpoolEntry) -> None:
        dependency = entry.waiting_for or "storage"
        self.services.metrics.spool_expired.labels(dependency).inc()
        log.warning(
            "spooled upload given up: %s stayed unavailable",
            dependency,
            extra={"event": "spool_expired", "job_id": entry.job_id, "dependency": dependency},
        )
        if entry.stage >= Stage.RECORDED:
            # The row must not stay ``received`` (a sweeper would queue an upload the user was
            # told to resend); if the database is what is down, the row stays as it is.
            with contextlib.suppress(CsvbotError):
                await self.services.repo.fail_job(
                    entry.job_id, kind="internal", message="spool expired", retryable=False
                )
        await asyncio.to_thread(self.spool.remove, entry.job_id)
        await self._edit(entry, messages.spool_gave_up(entry.file_name, dependency, self.max_age_seconds))

    async def _edit(self, entry: SpoolEntry, text: str) -> None:
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=entry.chat_id, message_id=entry.progress_message_id
            )
        except Exception as exc:  # Telegram down too: the spool still does its job
            log.info(
                "spool progress edit failed",
                extra={"event": "progress_edit_failed", "job_id": entry.job_id, "error": type(exc).__name__},
            )


def _ignore(entry: SpoolEntry) -> None:
    """The first pass does not persist stages: every step is safe to repeat on a replay."""


def open_upload_desk(settings: Settings, services: Services, bot: Bot) -> UploadDesk:
    """The desk for a bot process (call :meth:`UploadDesk.start` to replay the spool)."""
    spool = Spool(settings.spool_path, settings.spool_max_bytes, services.metrics)
    return UploadDesk(
        services,
        bot,
        spool,
        max_age_seconds=settings.spool_max_age_seconds,
        retry_cap_seconds=slo.SPOOL_RETRY_CAP_SECONDS,
    )
