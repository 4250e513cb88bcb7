"""csvbot telemetry package."""
