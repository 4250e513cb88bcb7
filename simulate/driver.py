"""Simulated users: open-loop arrivals of actions, each timed from its *scheduled* start.

Arrivals follow a Poisson process at the scenario's rate whether or not earlier actions were
answered, and each latency is measured from when the action was due — so a service that falls
behind shows it in the numbers instead of quietly slowing the load (no coordinated omission).

A user has at most one action in flight, like a person waiting for the bot's answer; an arrival
goes to a random idle user. Answers are observed through the emulator's transcript listener, at
the moment the bot's API call reaches the emulator.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from emulators.telegram import ChatEvent, TelegramEmulator, TranscriptEntry
from service.errors import CsvbotError, RetryableError
from simulate.csvgen import make_upload
from simulate.scenarios import Scenario

JOB_ID = re.compile(r"[Jj]ob ([0-9a-f]{12})\b")

Predicate = Callable[[TranscriptEntry], bool]


def _failure_texts() -> tuple[str, ...]:
    """User messages that mean "the service failed" (as opposed to a refused bad file)."""
    texts = {CsvbotError.user_message}
    stack: list[type[CsvbotError]] = [RetryableError]
    while stack:
        cls = stack.pop()
        texts.add(cls.user_message)
        stack.extend(cls.__subclasses__())
    return tuple(texts)


FAILURE_TEXTS = _failure_texts()


@dataclass
class Sample:
    """One measured step: ``op`` is ``command``, ``upload_accepted`` or ``upload_result``."""

    op: str
    latency: float
    #: ``ok``; ``failed`` (the bot said it failed); ``timeout`` (no answer in time).
    outcome: str
    detail: str = ""


@dataclass
class RunState:
    samples: list[Sample] = field(default_factory=list)
    in_flight: int = 0
    arrivals: int = 0
    #: Arrivals that found no idle user (the population is too small for the rate).
    no_idle_user: int = 0
    uploads: int = 0
    #: job id → the kind of file uploaded (clean/messy/bad).
    jobs: dict[str, str] = field(default_factory=dict)
    bad_uploads_rejected: int = 0
    bad_uploads_processed: int = 0

    def record(self, op: str, started: float, outcome: str, detail: str = "") -> None:
        self.samples.append(Sample(op, time.monotonic() - started, outcome, detail))


class ChatWatcher:
    """Resolves waiters when a bot message (new or edited) matching their predicate appears."""

    def __init__(self, emulator: TelegramEmulator) -> None:
        self._waiters: dict[int, list[tuple[Predicate, asyncio.Future[TranscriptEntry]]]] = defaultdict(list)
        emulator.add_listener(self._on_event)

    def _on_event(self, event: ChatEvent) -> None:
        entry = event.entry
        if entry.sender != "bot" or event.kind == "deleted":
            return
        waiters = self._waiters.get(entry.chat_id)
        if not waiters:
            return
        for item in list(waiters):
            predicate, future = item
            if not future.done() and predicate(entry):
                future.set_result(entry)
                waiters.remove(item)

    async def wait(self, chat_id: int, predicate: Predicate, within: float) -> TranscriptEntry | None:
        future: asyncio.Future[TranscriptEntry] = asyncio.get_running_loop().create_future()
        item = (predicate, future)
        self._waiters[chat_id].append(item)
        try:
            return await asyncio.wait_for(future, within)
        except TimeoutError:
            return None
        finally:
            if item in self._waiters[chat_id]:
                self._waiters[chat_id].remove(item)


class Workload:
    def __init__(self, scenario: Scenario, emulator: TelegramEmulator, seed: int) -> None:
        self.scenario = scenario
        self.emulator = emulator
        self.rng = random.Random(seed)
        self.state = RunState()
        self.watcher = ChatWatcher(emulator)
        self.users = [emulator.create_user(f"user{i}").id for i in range(scenario.users)]
        self.idle: list[int] = list(self.users)
        self.user_jobs: dict[int, list[str]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()
        self._serial = 0

    async def run(self) -> None:
        """Arrivals for ``duration`` seconds, then wait (bounded) for the answers in flight."""
        s = self.scenario
        start = time.monotonic()
        next_at = start
        while True:
            next_at += self.rng.expovariate(s.rate)
            if next_at - start >= s.duration:
                break
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            self._arrive(next_at)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=s.drain + s.result_timeout)
        await self.cancel()

    async def cancel(self) -> None:
        """Stop every action still in flight (their users stop waiting) and wait until they have."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    def _arrive(self, due: float) -> None:
        self.state.arrivals += 1
        if not self.idle:
            self.state.no_idle_user += 1
            return
        user = self.idle.pop(self.rng.randrange(len(self.idle)))
        weights = self.scenario.actions.weights()
        action = self.rng.choices(list(weights), weights=list(weights.values()))[0]
        task = asyncio.get_running_loop().create_task(self._act(user, action, due))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _act(self, user: int, action: str, due: float) -> None:
        self.state.in_flight += 1
        try:
            if action == "upload":
                await self._upload(user, due)
            else:
                await self._command(user, action, due)
        finally:
            self.state.in_flight -= 1
            self.idle.append(user)

    async def _command(self, user: int, action: str, due: float) -> None:
        text = f"/{action}"
        if action == "job":
            jobs = self.user_jobs.get(user)
            text = f"/job {self.rng.choice(jobs)}" if jobs else "/jobs"
        sent = self.emulator.send_text(user, text)
        reply = await self.watcher.wait(user, lambda e: e.seq > sent.seq, self.scenario.reply_timeout)
        if reply is None:
            self.state.record("command", due, "timeout", text)
        else:
            self.state.record("command", due, _judge(reply.content), text)

    async def _upload(self, user: int, due: float) -> None:
        s, state = self.scenario, self.state
        self._serial += 1
        upload = make_upload(self.rng, s.files, self._serial)
        state.uploads += 1
        sent = await self.emulator.send_document(
            user, upload.data, upload.file_name, mime_type=upload.mime_type
        )

        first = await self.watcher.wait(
            user, lambda e: e.seq > sent.seq and not e.content.startswith("Got "), s.reply_timeout
        )
        if first is None:
            state.record("upload_accepted", due, "timeout", upload.kind)
            return
        match = JOB_ID.search(first.content)
        if match is None or "could not be completed" in first.content:
            # Refused before queueing (wrong type, too large, storage down, …).
            outcome = _judge(first.content)
            if upload.kind == "bad" and outcome == "ok":
                state.bad_uploads_rejected += 1
            elif upload.kind != "bad":
                outcome = "failed"
            state.record("upload_accepted", due, outcome, upload.kind)
            return
        state.record("upload_accepted", due, "ok", upload.kind)
        job_id = match.group(1)
        state.jobs[job_id] = upload.kind
        self.user_jobs[user].append(job_id)

        def result(e: TranscriptEntry) -> bool:
            if e.document is not None and e.caption and job_id in e.caption:
                return True
            return f"Job {job_id} could not be completed" in e.content

        final = await self.watcher.wait(user, result, s.result_timeout)
        if final is None:
            state.record("upload_result", due, "timeout", upload.kind)
            return
        if final.document is not None:
            if upload.kind == "bad":
                state.bad_uploads_processed += 1
                state.record("upload_result", due, "failed", "bad file was not refused")
            else:
                state.record("upload_result", due, "ok", upload.kind)
        else:
            refused = _judge(final.content) == "ok"
            if upload.kind == "bad" and refused:
                state.bad_uploads_rejected += 1
                state.record("upload_result", due, "ok", "bad file refused")
            else:
                state.record("upload_result", due, "failed", upload.kind)


def _judge(content: str) -> str:
    """``failed`` when the bot's answer is one of its service-failure messages, else ``ok``."""
    return "failed" if any(text in content for text in FAILURE_TEXTS) else "ok"
