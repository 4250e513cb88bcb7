"""One spooled upload's metadata record, kept as a small JSON file beside its data file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any, Literal

#: Which dependency an upload is waiting for (a closed label set: telemetry.labels.SPOOL_DEPENDENCIES).
Dependency = Literal["storage", "database", "broker"]


class Stage(IntEnum):
    """How far an upload got; each step moves it one stage on, and a replay resumes from here."""

    DOWNLOADED = 0  #: the file is on local disk
    USER_RECORDED = 1  #: the user row exists
    STORED = 2  #: the file is in storage under ``input_key``
    RECORDED = 3  #: the job row exists (``received``)
    QUEUED = 4  #: the job row is ``queued``
    ENQUEUED = 5  #: a task is on the queue: the worker's turn; the entry is removed


@dataclass
class SpoolEntry:
    job_id: str
    user_id: int
    chat_id: int
    username: str | None
    file_name: str
    size: int
    input_key: str
    progress_message_id: int
    trace_context: dict[str, str] = field(default_factory=dict)
    stage: Stage = Stage.DOWNLOADED
    #: Unix time the upload was accepted: the outage bound counts from here.
    accepted_at: float = 0.0
    #: The dependency the upload last waited for (``None``: it never had to wait).
    waiting_for: Dependency | None = None

    def to_json(self) -> str:
        doc = asdict(self)
        doc["stage"] = int(self.stage)
        return json.dumps(doc, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SpoolEntry:
        doc: dict[str, Any] = json.loads(text)
        doc["stage"] = Stage(int(doc["stage"]))
        return cls(**doc)
