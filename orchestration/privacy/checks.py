"""Overdue data-subject requests fail a check: GDPR gives 30 days to answer."""

import dagster as dg

from orchestration.privacy.assets import PRIVACY_REQUESTS
from orchestration.shared.resources import WarehouseResource


@dg.asset_check(
    asset=PRIVACY_REQUESTS,
    description="No open privacy request is past its due date (received + 30 days).",
    blocking=False,
)
def privacy_requests_on_time(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from privacy.requests import overdue

    with warehouse.connect() as con:
        late = overdue(con)
    return dg.AssetCheckResult(
        passed=late.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "overdue": len(late),
            "request_ids": ", ".join(late["request_id"].head(20)) or "none",
        },
    )
