"""Orchestration domain: ml."""

import dagster as dg

defs = dg.Definitions()
