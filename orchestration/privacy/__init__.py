"""Orchestration domain: privacy (data-subject requests, their schedule and deadline check).

The `warehouse` resource is bound once for the whole code location (definitions.py).
"""

import dagster as dg

from orchestration.privacy.assets import privacy_requests
from orchestration.privacy.checks import privacy_requests_on_time
from orchestration.privacy.schedules import hourly_privacy, privacy_job

defs = dg.Definitions(
    assets=[privacy_requests],
    asset_checks=[privacy_requests_on_time],
    jobs=[privacy_job],
    schedules=[hourly_privacy],
)
