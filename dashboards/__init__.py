"""csvbot dashboards package."""
