"""The worker's export step: the cleaned CSV and profile in the job's user's format."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from service.csvkit import CsvResult
from service.exports import Exported, export_results, format_for
from service.i18n import current_language
from service.i18n.users import current_prefs
from service.results.summary import stored_columns


async def export_for_user(result: CsvResult, out_dir: Path) -> Exported:
    prefs = current_prefs.get()
    output_format = format_for(prefs.output_format if prefs else None, current_language())
    export_dir = out_dir / "export"
    export_dir.mkdir(exist_ok=True)
    columns = result.profile["column_profiles"]
    # Spreadsheet writing is CPU-bound; the thread inherits the language (contextvars).
    return await asyncio.to_thread(export_results, result.cleaned_path, columns, export_dir, output_format)


def summary_extra(result: CsvResult, exported: Exported) -> dict[str, Any]:
    """What the job's stored summary adds for the result message and /job."""
    return {
        "output_format": exported.output_format,
        "formula_cells_neutralised": result.profile.get("formula_cells_neutralised", 0),
        "malformed": result.profile.get("malformed"),
        "column_profiles": stored_columns(result.profile["column_profiles"]),
    }
