"""Per-user quotas count the uploads still waiting in the spool (no job row yet), jobs and bytes."""

from __future__ import annotations

from typing import cast

import pytest

from service.bot.uploads import check_quotas
from service.deps import Services
from service.errors import QuotaExceededError
from service.spool import UploadDesk


class WaitingUploads:
    """The two things check_quotas asks the upload desk: what one user has waiting in the spool."""

    def __init__(self, count: int, size: int) -> None:
        self.count, self.size = count, size

    def waiting_for_user(self, user_id: int) -> int:
        return self.count

    def bytes_waiting_for_user(self, user_id: int) -> int:
        return self.size


async def test_spooled_bytes_count_against_the_daily_byte_quota(services: Services) -> None:
    budget = services.settings.quota_daily_bytes
    await check_quotas(services, cast(UploadDesk, WaitingUploads(1, budget - 100)), 7, 100)
    with pytest.raises(QuotaExceededError, match="daily bytes"):
        await check_quotas(services, cast(UploadDesk, WaitingUploads(1, budget - 99)), 7, 100)


async def test_spooled_uploads_count_against_the_active_jobs_quota(services: Services) -> None:
    limit = services.settings.quota_active_jobs
    await check_quotas(services, cast(UploadDesk, WaitingUploads(limit - 1, 0)), 7, 100)
    with pytest.raises(QuotaExceededError, match="active jobs"):
        await check_quotas(services, cast(UploadDesk, WaitingUploads(limit, 0)), 7, 100)
