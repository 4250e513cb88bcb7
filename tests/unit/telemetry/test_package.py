"""The telemetry package's face: its entry points resolve, and importing it loads none of them."""

from __future__ import annotations

import subprocess
import sys

import pytest

import telemetry


@pytest.mark.parametrize("name", telemetry.__all__)
def test_every_listed_entry_point_resolves(name: str) -> None:
    assert getattr(telemetry, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = telemetry.nothing  # type: ignore[attr-defined]


def test_importing_the_thresholds_loads_no_exporter_or_logging_code() -> None:
    prefixes = ("telemetry.", "opentelemetry", "prometheus_client")
    code = (
        "import sys; from telemetry import slo; "
        f"print(sorted(m for m in sys.modules if m.startswith({prefixes})))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "['telemetry.slo']"
