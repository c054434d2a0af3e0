"""cdp package."""
