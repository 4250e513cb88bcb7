"""Reading the Telegram emulator's transcript: which of the bot's messages is which."""

from __future__ import annotations

from emulators.telegram import TranscriptEntry


def is_cleaned_result(entry: TranscriptEntry) -> bool:
    """The cleaned CSV a finished job sends back."""
    return entry.document is not None and entry.document.file_name.endswith(".cleaned.csv")
