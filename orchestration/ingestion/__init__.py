"""Orchestration domain: ingestion (dlt assets per source, daily schedule, landing sensor)."""

import dagster as dg

from orchestration.ingestion.assets import build_all_source_assets
from orchestration.ingestion.jobs import ingestion_job
from orchestration.ingestion.resources import RESOURCES
from orchestration.ingestion.schedules import daily_ingestion
from orchestration.ingestion.sensors import build_landing_sensor

source_assets = build_all_source_assets()

defs = dg.Definitions(
    assets=source_assets,
    jobs=[ingestion_job],
    schedules=[daily_ingestion],
    sensors=[
        build_landing_sensor(
            {assets.op.name.removeprefix("ingest_"): list(assets.keys) for assets in source_assets}
        )
    ],
    resources=RESOURCES,
)
