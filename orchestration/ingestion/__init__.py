"""Orchestration domain: ingestion."""

import dagster as dg

defs = dg.Definitions()
