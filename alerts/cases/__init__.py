"""promtool unit tests for every alert, written as Python so that their numbers follow slo.py.

Each alert gets cases in pairs, in the style of kubernetes-mixin's ``tests/*-test.yaml``:
"<alert> fires when …" and "<alert> does not fire when …". The series cross (or stay inside) the
real thresholds from ``telemetry/slo.py``, and the expected annotations are rendered from the
alert's own templates, so promtool checks the expressions and the annotation text together.
"""
