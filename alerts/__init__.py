"""csvbot's Prometheus rules, generated from Python with every number from telemetry/slo.py.

Entry points (alerts/generate.py): ``generate(root)`` writes rules, promtool tests and dashboards;
``generate_rules(out_dir, fast=True)`` writes the shortened copy the live test loads.
"""
