"""Orchestration domain: quality."""

import dagster as dg

defs = dg.Definitions()
