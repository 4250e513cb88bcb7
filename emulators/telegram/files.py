"""Where the emulator keeps file contents: memory first, a temporary directory beyond a budget.

Decision: files stay in memory while their total is under ``memory_budget_bytes``; each file that
would exceed it is written to a private temporary directory instead (created on first need,
deleted by ``close()``). Memory therefore stays bounded however many CSVs a long simulation
uploads, and only disk grows, by exactly the bytes the run moved. Files are never evicted: a bot
may fetch a user's upload, or a test a bot's reply, at any later point of the run.
"""

from __future__ import annotations

import asyncio
import mimetypes
import secrets
import shutil
import tempfile
from base64 import urlsafe_b64encode
from pathlib import Path

from emulators.telegram.objects import StoredFile

DEFAULT_MIME_TYPE = "application/octet-stream"


def guess_mime_type(file_name: str, declared: str | None) -> str:
    """Telegram derives a document's MIME type from its name; the declared type is a fallback."""
    guessed, _ = mimetypes.guess_type(file_name, strict=False)
    if guessed:
        return guessed
    if declared and declared != DEFAULT_MIME_TYPE:
        return declared
    return DEFAULT_MIME_TYPE


def _opaque(prefix: str, serial: int, random_bytes: int) -> str:
    raw = serial.to_bytes(6, "big") + secrets.token_bytes(random_bytes)
    return prefix + urlsafe_b64encode(raw).decode().rstrip("=")


class FileStore:
    """File bytes and metadata, addressable by ``file_id`` and by download ``file_path``."""

    def __init__(self, *, memory_budget_bytes: int, spill_dir: Path | None = None) -> None:
        if memory_budget_bytes < 0:
            raise ValueError("memory_budget_bytes must be >= 0")
        self._budget = memory_budget_bytes
        self._parent_dir = spill_dir
        self._spill_dir: Path | None = None
        self._meta: dict[str, StoredFile] = {}
        self._by_path: dict[str, str] = {}
        self._in_memory: dict[str, bytes] = {}
        self._on_disk: dict[str, Path] = {}
        self._serial = 0
        self.memory_bytes = 0
        self.disk_bytes = 0

    def __len__(self) -> int:
        return len(self._meta)

    async def put(self, data: bytes, *, file_name: str, mime_type: str | None) -> StoredFile:
        """Store ``data`` and return its new, unique identity."""
        self._serial += 1
        serial = self._serial
        # Prefixes mimic Telegram's document ids so logs look familiar; the ids are opaque.
        file_id = _opaque("BQACAgIAAxkBAA", serial, 12)
        extension = Path(file_name).suffix.lower()[:16]
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=_opaque("AgAD", serial, 3),
            file_name=file_name,
            mime_type=guess_mime_type(file_name, mime_type),
            file_size=len(data),
            file_path=f"documents/file_{serial}{extension}",
        )
        if self.memory_bytes + len(data) <= self._budget:
            self._in_memory[file_id] = data
            self.memory_bytes += len(data)
        else:
            path = self._spill_directory() / f"file_{serial}"
            # Off the event loop: a 20 MB write would stall every other request.
            await asyncio.to_thread(path.write_bytes, data)
            self._on_disk[file_id] = path
            self.disk_bytes += len(data)
        self._meta[file_id] = stored
        self._by_path[stored.file_path] = file_id
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._meta.get(file_id)

    def get_by_path(self, file_path: str) -> StoredFile | None:
        file_id = self._by_path.get(file_path)
        return None if file_id is None else self._meta[file_id]

    async def read(self, file_id: str) -> bytes:
        """The file's bytes; ``KeyError`` when the id is unknown."""
        if file_id in self._in_memory:
            return self._in_memory[file_id]
        return await asyncio.to_thread(self._on_disk[file_id].read_bytes)

    def close(self) -> None:
        """Forget every file and delete the spill directory."""
        self._meta.clear()
        self._by_path.clear()
        self._in_memory.clear()
        self._on_disk.clear()
        self.memory_bytes = self.disk_bytes = 0
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)
            self._spill_dir = None

    def _spill_directory(self) -> Path:
        if self._spill_dir is None:
            if self._parent_dir is not None:
                # A directory named for the spill need not exist until something spills into it.
                self._parent_dir.mkdir(parents=True, exist_ok=True)
            self._spill_dir = Path(tempfile.mkdtemp(prefix="csvbot-telegram-emulator-", dir=self._parent_dir))
        return self._spill_dir
