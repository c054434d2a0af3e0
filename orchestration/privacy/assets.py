"""The `privacy_requests` asset: intake of the landing drop and processing of open requests."""

import dagster as dg

from orchestration.automation import sync_condition
from orchestration.shared.resources import WarehouseResource

PRIVACY_REQUESTS = dg.AssetKey(["privacy", "requests"])
#: hourly: a request must never wait for the daily load (run by the automation sensor)
PRIVACY_CRON = "15 * * * *"


@dg.asset(
    key=PRIVACY_REQUESTS,
    group_name="privacy",
    automation_condition=sync_condition(PRIVACY_CRON),
    description=(
        "Data-subject requests: rows of <landing>/privacy_requests/*.csv recorded (the file "
        "deleted), then each open request processed (privacy/process.py). Metadata holds "
        "counts only, never identifiers."
    ),
)
def privacy_requests(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    from cdp.settings import get_settings
    from privacy.process import process_open

    settings = get_settings()
    with warehouse.connect() as con:
        outcome = process_open(con, settings.landing_dir, settings.data_dir)
    if outcome.erased:  # every snapshot published before holds the erased persons
        from privacy.serving import republish

        republish(settings)
    statuses = list(outcome.processed.values())
    context.log.info(f"{len(statuses)} privacy request(s) processed")
    return dg.MaterializeResult(
        metadata={
            "files_taken": outcome.intake.get("files", 0),
            "requests_recorded": outcome.intake.get("recorded", 0),
            "requests_rejected": outcome.intake.get("rejected", 0),
            "processed": len(statuses),
            "done": statuses.count("done"),
            "failed": statuses.count("failed"),
        }
    )
