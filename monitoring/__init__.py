"""The join above ``alerts/`` and ``dashboards/``: the one place that imports both.

Like kubernetes-mixin's ``mixin.libsonnet``: the rules and the dashboards are built side by side
from :mod:`telemetry.slo` and :mod:`promlib`, and only here are they written out together
(``csvbot generate``, :mod:`monitoring.generate`).
"""
