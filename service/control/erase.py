"""``/delete``: every stored file, job row and the user row of one user, files first.

Files go before rows, so a storage failure half-way leaves rows that point at what is left and
the user can run ``/delete`` again. Running jobs are cancelled first; their workers see the rows
gone at their next checkpoint and remove anything they stored meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from service.deps import Services

from .objects import recorded_count, remove_job_objects

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Erased:
    jobs: int
    files: int


async def erase_user(services: Services, user_id: int) -> Erased:
    repo = services.repo
    jobs = await repo.list_user_jobs(user_id)
    for job in jobs:
        if not job.status.is_final:
            await repo.cancel_job(job.id, user_id)
    files = 0
    for job in jobs:
        await remove_job_objects(services, job, "user_delete")
        files += recorded_count(job)
    await repo.delete_user_data(user_id)
    log.info(
        "user data deleted",
        extra={"event": "user_data_deleted", "user_id": user_id, "jobs": len(jobs), "files": files},
    )
    return Erased(jobs=len(jobs), files=files)
