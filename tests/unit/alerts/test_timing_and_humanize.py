"""Duration arithmetic of the fast copy, and the Python twins of Prometheus' humanize functions."""

from __future__ import annotations

import pytest

from alerts.timing import FAST, PRODUCTION, format_duration, parse_duration
from promlib.humanize import humanize, humanize_duration, humanize_percentage


@pytest.mark.parametrize(("text", "seconds"), [("5s", 5), ("5m", 300), ("1h", 3600), ("3d", 259200)])
def test_durations_round_trip(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == text


def test_a_duration_with_two_units_is_refused() -> None:
    with pytest.raises(ValueError, match="single-unit"):
        parse_duration("1h30m")


def test_fast_timing_turns_minutes_into_seconds_with_a_floor() -> None:
    assert FAST.window("10m") == "10s"
    assert FAST.window("1h") == "1m"
    assert FAST.window("1m") == "5s"  # floor: rate() needs several 1 s scrapes
    assert FAST.hold("10m") == "10s"
    assert PRODUCTION.window("10m") == "10m"
    assert PRODUCTION.hold("10m") == "10m"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0s"), (0.5, "500ms"), (0.975, "975ms"), (14.75, "14.75s"), (300, "5m 0s"), (90061, "1d 1h 1m 1s")],
)
def test_humanize_duration_matches_prometheus(value: float, text: str) -> None:
    assert humanize_duration(value) == text


@pytest.mark.parametrize(("value", "text"), [(0.85, "85%"), (0.005, "0.5%"), (0.144, "14.4%"), (1, "100%")])
def test_humanize_percentage_matches_prometheus(value: float, text: str) -> None:
    assert humanize_percentage(value) == text


@pytest.mark.parametrize(("value", "text"), [(0, "0"), (5, "5"), (1234567, "1.235M"), (0.0025, "2.5m")])
def test_humanize_matches_prometheus(value: float, text: str) -> None:
    assert humanize(value) == text
