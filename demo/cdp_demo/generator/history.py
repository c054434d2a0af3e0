"""The last day of the generated history when none is given (a light module: the CLI reads it
without loading the generator)."""

from datetime import date

# Fixed, so that the same seed gives the same bytes on any day: `cdp generate`, the bench and
# the tests. `cdp demo` ends its retailer yesterday instead (its data then looks fresh).
DEFAULT_END_DATE = date(2026, 10, 31)
