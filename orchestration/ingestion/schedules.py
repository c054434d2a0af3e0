"""A daily run of the whole ingestion job; the automation carries it downstream.

Off in a new instance (`cdp demo` turns it on in its own; docs/operations.md).
"""

from __future__ import annotations

import dagster as dg

from orchestration.ingestion.jobs import ingestion_job

daily_ingestion = dg.ScheduleDefinition(
    name="daily_ingestion",
    job=ingestion_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "Load every source's new or changed extracts at 05:00 UTC; cdp_automation then "
        "rebuilds staging, identity, marts, scores and segments, and the syncs follow."
    ),
)
