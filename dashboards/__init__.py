"""csvbot's Grafana dashboards, generated with grafanalib (see dashboards/generate.py).

Shared helpers come from :mod:`promlib`; this package never imports :mod:`alerts`.
"""
