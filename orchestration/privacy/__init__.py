"""Orchestration domain: privacy (data-subject requests processed hourly, the deadline check).

The `warehouse` resource is bound once for the whole code location (definitions.py).
"""

import dagster as dg

from orchestration.privacy.assets import privacy_requests
from orchestration.privacy.checks import privacy_requests_on_time

defs = dg.Definitions(
    assets=[privacy_requests],
    asset_checks=[privacy_requests_on_time],
)
