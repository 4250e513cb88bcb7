"""The metric catalogue follows Prometheus conventions and uses only closed label sets."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry

from service.errors import all_error_kinds
from telemetry import labels
from telemetry.metrics import Metrics, allowed_values_for, sample_totals

NAME = re.compile(r"^csvbot_[a-z][a-z0-9_]*$")
UNIT_SUFFIXES = ("_seconds", "_bytes", "_total", "_info", "_ratio")


def _families(registry: CollectorRegistry):
    return [f for f in registry.collect() if f.name.startswith("csvbot_")]


def test_error_kinds_in_labels_match_the_error_tree() -> None:
    """telemetry may not import service, so it restates the kinds; the two must stay equal."""
    assert all_error_kinds() == labels.ERROR_KINDS


def test_every_metric_name_follows_the_conventions(registry: CollectorRegistry) -> None:
    Metrics(registry, process_metrics=False)
    for family in _families(registry):
        assert NAME.match(family.name), family.name
        if family.type == "counter":
            # prometheus_client strips _total from the family name and adds it to samples.
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), family.name
        if family.type == "histogram":
            assert family.name.endswith(("_seconds", "_bytes")), f"{family.name} lacks a base unit"
        assert family.documentation, f"{family.name} has no help text"


def test_registry_walk_accepts_only_declared_label_values(registry: CollectorRegistry) -> None:
    m = Metrics(registry, service="worker", version="1.2.3", process_metrics=False)
    m.storage_request_duration.labels("download", "storage_timeout").observe(0.1)
    m.count_error("storage", "not-a-kind")  # folded into "internal"
    walked = 0
    for family in _families(registry):
        for sample in family.samples:
            for label, value in sample.labels.items():
                if label == "le":
                    continue
                allowed = allowed_values_for(family.name, label)
                if allowed is None:
                    continue
                walked += 1
                assert value in allowed, f"{family.name}{{{label}={value!r}}} is not declared"
    assert walked > 1000  # the walk really saw the pre-initialised series


def test_registry_walk_catches_an_undeclared_value(registry: CollectorRegistry) -> None:
    """The walk above is able to fail: an ad-hoc label value is reported."""
    m = Metrics(registry, process_metrics=False)
    m.updates.labels("start", "exploded").inc()
    bad = [
        (f.name, s.labels)
        for f in _families(registry)
        for s in f.samples
        for k, v in s.labels.items()
        if k != "le" and (allowed := allowed_values_for(f.name, k)) is not None and v not in allowed
    ]
    assert bad and bad[0][0] == "csvbot_updates"


def test_labelled_series_exist_before_anything_happens(registry: CollectorRegistry) -> None:
    """Pre-initialised series read 0, so rate() and alerts see zeros instead of no data."""
    Metrics(registry, process_metrics=False)
    assert registry.get_sample_value("csvbot_jobs_total", {"outcome": "failed"}) == 0.0
    assert registry.get_sample_value("csvbot_storage_timeouts_total", {"operation": "download"}) == 0.0


def test_unknown_service_name_is_refused(registry: CollectorRegistry) -> None:
    with pytest.raises(ValueError, match="service must be one of"):
        Metrics(registry, service="cron")


def test_process_metrics_are_registered_on_the_given_registry(registry: CollectorRegistry) -> None:
    Metrics(registry)
    assert registry.get_sample_value("process_cpu_seconds_total") is not None
    assert registry.get_sample_value("csvbot_build_info", {"version": "0.0.0", "service": "bot"}) == 1


def test_sample_totals_reads_one_metric_as_the_registry_would() -> None:
    metrics = Metrics(CollectorRegistry(), process_metrics=False)
    metrics.count_error("db", "db_unavailable")
    metrics.count_error("db", "db_unavailable")
    metrics.count_error("worker", "db_unavailable")
    metrics.db_query_duration.labels("claim_job").observe(0.25)
    metrics.db_query_duration.labels("finish_job").observe(0.5)
    registry = metrics.registry

    errors = sample_totals(metrics.errors, component="db", kind="db_unavailable")
    assert (
        errors["csvbot_errors_total"]
        == 2
        == registry.get_sample_value("csvbot_errors_total", {"component": "db", "kind": "db_unavailable"})
    )
    queries = sample_totals(metrics.db_query_duration)
    assert queries["csvbot_db_query_duration_seconds_sum"] == 0.75
    assert queries["csvbot_db_query_duration_seconds_count"] == 2
