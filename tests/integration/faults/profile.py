"""How big a fault run is: the CI profile (fast) or the full counts (``scripts/faults``)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    #: Uploads per fault.
    uploads: int
    #: How long a database or broker outage lasts.
    outage_seconds: float
    #: How long storage hangs or answers 503.
    storage_outage_seconds: float
    #: Seconds over which the uploads of one run are sent.
    spread_seconds: float
    #: How long the results may take once a fault has ended.
    settle_seconds: float


#: CI: 20 uploads and outages of a few seconds per fault, the whole suite within ~8 minutes on
#: two cores; every path the full run takes is still taken (the outage outlasts the storage
#: deadline, the lease and the database's acquire timeout).
CI = Profile(uploads=20, outage_seconds=8, storage_outage_seconds=10, spread_seconds=10, settle_seconds=60)
#: The issue's experiment: 100 uploads, PostgreSQL and Redis down 20 s, storage 30 s.
FULL = Profile(
    uploads=100, outage_seconds=20, storage_outage_seconds=30, spread_seconds=40, settle_seconds=240
)


def current() -> Profile:
    return FULL if os.environ.get("CSVBOT_FAULTS_PROFILE") == "full" else CI
