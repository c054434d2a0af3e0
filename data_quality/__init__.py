"""data_quality package."""
