"""The one query behind per-user quotas: jobs in flight and bytes uploaded since a time.

Kept apart from :mod:`service.db.sql` (the job state machine's statements): it only reads, and
the same text runs on PostgreSQL and SQLite (timestamps compare as values on one, as fixed-width
UTC text on the other).
"""

from __future__ import annotations

from dataclasses import dataclass

USER_USAGE = """
SELECT
    COALESCE(SUM(CASE WHEN status IN ('received', 'queued', 'running') THEN 1 ELSE 0 END), 0)
        AS active_jobs,
    COALESCE(SUM(CASE WHEN created_at >= :since THEN file_size ELSE 0 END), 0) AS bytes_since
FROM jobs
WHERE user_id = :user_id
  AND (status IN ('received', 'queued', 'running') OR created_at >= :since)
"""


@dataclass(frozen=True, slots=True)
class UserUsage:
    """What one user has in flight and has sent recently."""

    #: Jobs ``received``, ``queued`` or ``running``.
    active_jobs: int
    #: Sum of ``file_size`` of the user's jobs created since the given time.
    bytes_since: int
