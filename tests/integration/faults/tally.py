"""What each upload of a fault run got, read from the users' chats in the Telegram emulator.

Every upload comes from a user of its own, so a chat is one upload's whole story: the cleaned
file(s) it received and any message that asks the user to act.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emulators.telegram import TelegramEmulator, TranscriptEntry

#: Phrases of a message that leaves the upload without its result (the user must act).
ERROR_PHRASES = ("could not be completed", "try again", "send it again", "went wrong", "not saved")
#: The bounded outage of the spool ran out: a clear message, counted on its own.
EXPIRED_PHRASE = "stayed unavailable"


def _cleaned(entry: TranscriptEntry) -> bool:
    return entry.document is not None and entry.document.file_name.endswith(".cleaned.csv")


def _profile(entry: TranscriptEntry) -> bool:
    return entry.document is not None and entry.document.file_name.endswith(".profile.csv")


def _resent(entry: TranscriptEntry) -> bool:
    """A deliverer that took over marks what it sends: "(sent again)" in the caption."""
    return "(sent again)" in (entry.caption or "")


@dataclass
class Tally:
    fault: str
    uploads: int = 0
    one_result: int = 0
    duplicate: int = 0
    inflight_repeat: int = 0
    #: Documents sent again by a deliverer that took over (each upload with repeats counts once
    #: in ``inflight_repeat``; one upload hit by two kills repeats two documents).
    repeated_documents: int = 0
    error: int = 0
    expired: int = 0
    nothing: int = 0
    stuck_rows: int = 0
    stuck_detail: dict[str, int] = field(default_factory=dict)
    spool_left: int = 0
    seconds: float = 0.0
    #: In-flight repeats the fault may cause (one per delivery a killed worker had running).
    allowed_repeats: int = 0
    #: What the users of a few uploads that did not end in one result read, by outcome: a
    #: failure shows the chats themselves, not only the counts.
    examples: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def row(self) -> str:
        return (
            f"| {self.fault} | {self.uploads} | {self.one_result} | {self.duplicate} "
            f"| {self.inflight_repeat} ({self.repeated_documents}) | {self.error} | {self.expired} "
            f"| {self.nothing} "
            f"| {self.stuck_rows} | {self.seconds:.0f} s |"
        )

    @property
    def ok(self) -> bool:
        return (
            self.nothing == 0
            and self.duplicate == 0
            and self.error == 0
            and self.stuck_rows == 0
            and self.spool_left == 0
            and self.repeated_documents <= self.allowed_repeats
            and self.one_result + self.inflight_repeat + self.expired == self.uploads
        )


HEADER = (
    "| fault | uploads | exactly one result | duplicate | in-flight repeat (documents) | error | "
    "spool bound (clear error) | nothing | stuck rows | time |\n|---|---|---|---|---|---|---|---|---|---|"
)


def outcome(emulator: TelegramEmulator, chat_id: int) -> str:
    """``one``, ``duplicate``, ``inflight_repeat``, ``error``, ``expired``, ``nothing`` or
    ``pending`` (nothing final yet) for one upload.

    A result is two documents (cleaned file, profile). More mean a document was sent again by a
    deliverer that took over from one that died while sending it (Telegram cannot tell us that
    it arrived): such resends say so in their caption, and each delivery a kill cuts short can
    cause at most one. A document sent twice *without* that mark — two deliverers that each
    thought they were first — is a duplicate result.
    """
    messages = emulator.bot_messages(chat_id)
    cleaned = sum(1 for e in messages if _cleaned(e))
    profiles = sum(1 for e in messages if _profile(e))
    # The spool's "no need to send it again" is reassurance, not a request.
    texts = [
        e.content.lower().replace("no need to send it again", "") for e in messages if e.document is None
    ]
    if any(phrase in text for text in texts for phrase in ERROR_PHRASES if EXPIRED_PHRASE not in text):
        return "error"
    if any(EXPIRED_PHRASE in text for text in texts):
        return "expired" if not cleaned else "duplicate"
    if cleaned == 0 or profiles == 0:
        return "pending"
    first_cleaned = sum(1 for e in messages if _cleaned(e) and not _resent(e))
    first_profiles = sum(1 for e in messages if _profile(e) and not _resent(e))
    if first_cleaned > 1 or first_profiles > 1:
        return "duplicate"
    if cleaned + profiles == 2:
        return "one"
    return "inflight_repeat"


def repeated_documents(emulator: TelegramEmulator, chat_id: int) -> int:
    """Documents beyond the two of one result."""
    messages = emulator.bot_messages(chat_id)
    return max(0, sum(1 for e in messages if _cleaned(e) or _profile(e)) - 2)


#: Chats shown per outcome in a failure's message.
EXAMPLES_PER_OUTCOME = 3


def render_chat(emulator: TelegramEmulator, chat_id: int) -> str:
    """One chat as its user saw it: each bot message with its earlier versions, oldest first."""
    lines = [f"chat {chat_id}:"]
    for entry in emulator.bot_messages(chat_id):
        shown = entry.content or "(empty)"
        if entry.document is not None:
            shown = f"[document {entry.document.file_name}] {shown}"
        history = " -> ".join(repr(text) for text in entry.edit_history)
        lines.append(f"  {shown!r}" + (f"  (earlier: {history})" if history else ""))
    return "\n".join(lines)


def settled(emulator: TelegramEmulator, chat_ids: list[int]) -> bool:
    return all(outcome(emulator, chat_id) != "pending" for chat_id in chat_ids)


def count(tally: Tally, emulator: TelegramEmulator, chat_ids: list[int]) -> None:
    tally.uploads = len(chat_ids)
    for chat_id in chat_ids:
        result = outcome(emulator, chat_id)
        if result == "inflight_repeat":
            tally.repeated_documents += repeated_documents(emulator, chat_id)
        if result != "one":
            shown = tally.examples.setdefault(result, [])
            if len(shown) < EXAMPLES_PER_OUTCOME:
                shown.append(render_chat(emulator, chat_id))
        if result == "one":
            tally.one_result += 1
        elif result == "pending":
            tally.nothing += 1
        else:
            setattr(tally, result, getattr(tally, result) + 1)
