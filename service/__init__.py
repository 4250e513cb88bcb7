"""csvbot service package."""
