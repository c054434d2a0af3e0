"""The ingestion job: every raw_<source> asset group."""

from __future__ import annotations

import dagster as dg

from ingestion.config import SOURCE_NAMES

RAW_GROUPS = [f"raw_{name}" for name in SOURCE_NAMES]

ingestion_job = dg.define_asset_job(
    name="ingestion_job",
    selection=dg.AssetSelection.groups(*RAW_GROUPS),
    description="Load the landing files of every source into the raw_<source> schemas (dlt).",
)
