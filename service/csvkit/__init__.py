"""Pure CSV logic: a local file in, a cleaned CSV, a profile CSV and a chat summary out.

No network, database, Telegram or metrics here; callers add those. Entry point::

    result = process_csv(input_path, out_dir, CsvLimits(...), progress=callback)

Every rejection is a typed :class:`service.errors.InputError` with a user-facing message.
"""

from .limits import CsvLimits
from .pipeline import CsvResult, process_csv

__all__ = ["CsvLimits", "CsvResult", "process_csv"]
