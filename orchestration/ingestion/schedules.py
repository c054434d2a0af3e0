"""A daily run of the whole ingestion job (off by default; switch it on in the UI)."""

from __future__ import annotations

import dagster as dg

from orchestration.ingestion.jobs import ingestion_job

daily_ingestion = dg.ScheduleDefinition(
    name="daily_ingestion",
    job=ingestion_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Load every source's new or changed extracts at 05:00 UTC.",
)
