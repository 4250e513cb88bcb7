"""The upload spool: an accepted upload is kept on local disk until it is stored, recorded and
queued, so an outage of storage, the database or the broker never makes a user send it again.

* :mod:`~service.spool.entry` — what is kept beside each file (who, which job, how far it got).
* :mod:`~service.spool.store` — the files on disk: bounded in bytes, written atomically, fsynced.
* :mod:`~service.spool.steps` — the steps that turn a downloaded file into a queued job, each
  safe to repeat, resumable from the stage an entry records.
* :mod:`~service.spool.desk` — the background task that finishes spooled uploads when their
  dependency returns (capped, jittered backoff), replays the spool at start-up and gives up, with
  a clear message, once an outage outlasts ``SPOOL_MAX_AGE_SECONDS``.
"""

from service.spool.desk import UploadDesk, open_upload_desk
from service.spool.entry import Dependency, SpoolEntry, Stage
from service.spool.steps import DependencyDown
from service.spool.store import Spool, SpoolFullError

__all__ = [
    "Dependency",
    "DependencyDown",
    "Spool",
    "SpoolEntry",
    "SpoolFullError",
    "Stage",
    "UploadDesk",
    "open_upload_desk",
]
