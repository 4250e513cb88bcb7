"""csvbot's Grafana dashboards, generated with grafanalib (see dashboards/generate.py)."""
