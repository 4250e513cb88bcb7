"""The CSV engine's specific messages keep their details in Russian: the English text (from a
child process, or read back from a failed job's row) is matched to its template and refilled
in the user's language, numbers in Russian digits."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings
from service.csvkit import CsvLimits, process_csv, texts
from service.errors import CsvbotError
from service.i18n import fmt, use_language
from service.i18n.errors import KIND_TEXTS, error_text

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


def _filled(template: str) -> str:
    values = {
        "line": "12,345",
        "limit": "1,000",
        "found": "2,000",
        "rows": "40",
        "total": "50",
        "columns": "3",
        "lines": "2, 3, 4",
        "name": "UTF-16",
        "what": "a PDF document",
        "amount": texts.AT_LEAST.format(n="1,000"),
        "allowed": "20 MB",
    }
    return template.format(**{k: v for k, v in values.items() if "{" + k + "}" in template})


@pytest.mark.parametrize("template", texts.TEMPLATES)
def test_every_engine_message_is_refilled_in_russian(template: str) -> None:
    english = _filled(template)
    with use_language("ru"):
        shown = error_text("invalid_input", english, SETTINGS)
        digits = fmt.number(12345, decimals=0)
    assert shown != english
    assert not any(word in shown for word in ("file", "line", "limit", "the ")), shown
    if "{line}" in template:
        assert digits in shown, "the line number survives, in Russian digits"
    if "{what}" in template:
        assert "документ PDF" in shown
    if "{amount}" in template:
        assert "не меньше" in shown


def test_english_is_shown_as_written() -> None:
    english = _filled(texts.RECORD_TOO_WIDE)
    assert error_text("too_many_columns", english, SETTINGS) == english


def test_a_real_refusal_keeps_its_line_in_russian(tmp_path: Path) -> None:
    """A row far wider than the limit, past the rows the dialect is sniffed from."""
    source = tmp_path / "wide.csv"
    source.write_text("a,b\n" + "1,2\n" * 600 + ",".join(["x"] * 50) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CsvbotError) as caught:
        process_csv(source, out, CsvLimits(max_columns=10))
    with use_language("ru"):
        shown = error_text(caught.value.kind, caught.value.user_message, SETTINGS)
    assert "602" in shown and "10" in shown
    assert shown != KIND_TEXTS.get(caught.value.kind)
    assert "строке" in shown


def test_text_that_matches_no_template_gets_its_kinds_message() -> None:
    with use_language("ru"):
        shown = error_text("malformed_csv", "Something the engine never writes.", SETTINGS)
    assert shown.startswith("Большинство строк")
