"""Users and jobs in PostgreSQL (production) or SQLite (embedded default), behind one interface.

Start here: :func:`open_repository` builds the backend the settings select, migrates it and
returns a :class:`Repository`. The job state machine is documented in :mod:`service.db.models`.
"""

from service.db.factory import build_repository, migrate, migrate_command, open_repository
from service.db.models import (
    FINAL_STATUSES,
    RESULT_DOCUMENTS,
    DeliveryClaims,
    Job,
    JobPathAges,
    JobStatus,
    StaleJobs,
    User,
    new_job_id,
    utc_now,
)
from service.db.repository import LimitSource, Repository

__all__ = [
    "FINAL_STATUSES",
    "RESULT_DOCUMENTS",
    "DeliveryClaims",
    "Job",
    "JobPathAges",
    "JobStatus",
    "LimitSource",
    "Repository",
    "StaleJobs",
    "User",
    "build_repository",
    "migrate",
    "migrate_command",
    "new_job_id",
    "open_repository",
    "utc_now",
]
