"""csvbot alerts package."""
