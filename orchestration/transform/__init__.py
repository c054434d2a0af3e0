"""Orchestration domain: transform."""

import dagster as dg

defs = dg.Definitions()
