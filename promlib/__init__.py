"""What ``alerts/`` and ``dashboards/`` share, so that neither imports the other.

:mod:`.names` (recording-rule and scrape-job names), :mod:`.promql` (PromQL helpers),
:mod:`.humanize` (durations and shares as alert texts write them), :mod:`.render`
(deterministic YAML and file writing) and :mod:`.runbooks` (README anchors). Like
kubernetes-mixin's ``lib/``: it depends on :mod:`telemetry` only.
"""
