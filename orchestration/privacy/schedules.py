"""Privacy requests processed every hour: a request must never wait for the daily load.

Off in a new instance like every schedule (docs/operations.md); the overdue check and
`cdp privacy requests` show requests left waiting.
"""

from __future__ import annotations

import dagster as dg

from orchestration.privacy.assets import privacy_requests

privacy_job = dg.define_asset_job("privacy_job", selection=[privacy_requests])

hourly_privacy = dg.ScheduleDefinition(
    name="hourly_privacy_requests",
    job=privacy_job,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Take the privacy_requests landing drop and process the open requests.",
)
