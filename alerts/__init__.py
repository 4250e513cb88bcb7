"""csvbot's Prometheus rules, generated from Python with every number from telemetry/slo.py.

Entry points (alerts/generate.py): ``write_all(root)`` writes the rules and their promtool tests;
``generate_rules(out_dir, fast=True)`` writes the shortened copy the live test loads. Shared
helpers come from :mod:`promlib`; ``csvbot generate`` (:mod:`monitoring.generate`) writes the
rules and the dashboards together.
"""
