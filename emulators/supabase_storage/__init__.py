"""A Supabase Storage test server: the REST API supabase-py calls, plus fault injection.

:mod:`.server` serves the routes and the control API, :mod:`.routes` answers each Storage call,
:mod:`.objects` keeps buckets and objects (spilled to disk), :mod:`.wire` writes replies and body
faults, :mod:`.faults` describes the faults. Run standalone with ``python -m emulators.supabase_storage``.
"""

from emulators.supabase_storage.faults import Fault, FaultPlan
from emulators.supabase_storage.server import SupabaseStorageServer

__all__ = ["Fault", "FaultPlan", "SupabaseStorageServer"]
