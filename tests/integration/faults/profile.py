"""How big a fault run is: the issue's full counts (the test command) or a quick look."""

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


#: The issue's experiment, and what the test command runs: 100 uploads per fault, PostgreSQL and
#: Redis down 20 s, storage hanging or answering 503 for 30 s (~12 minutes on two cores).
FULL = Profile(
    uploads=100, outage_seconds=20, storage_outage_seconds=30, spread_seconds=40, settle_seconds=240
)
#: A quick look (``CSVBOT_FAULTS_PROFILE=quick``): 20 uploads and outages of a few seconds, ~6
#: minutes; every path the full run takes is still taken (the outage outlasts the storage
#: deadline, the lease and the database's acquire timeout).
QUICK = Profile(uploads=20, outage_seconds=8, storage_outage_seconds=10, spread_seconds=10, settle_seconds=60)


def current() -> Profile:
    return QUICK if os.environ.get("CSVBOT_FAULTS_PROFILE") == "quick" else FULL
