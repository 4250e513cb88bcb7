"""Results in the format the user chose: CSV, CSV for Excel, or an XLSX workbook.

A step after the CSV engine's pass: it reads the cleaned CSV the engine wrote (UTF-8, comma,
neutralised by :mod:`service.csvkit.sanitize`) and the profile, and writes the files the user
gets. The engine itself is unchanged by the choice.
"""

from service.exports.formats import (
    CSV,
    CSV_EXCEL,
    OUTPUT_FORMATS,
    XLSX,
    Exported,
    default_format,
    export_results,
    format_for,
)

__all__ = [
    "CSV",
    "CSV_EXCEL",
    "OUTPUT_FORMATS",
    "XLSX",
    "Exported",
    "default_format",
    "export_results",
    "format_for",
]
