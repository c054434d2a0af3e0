"""Orchestration domain: activation."""

import dagster as dg

defs = dg.Definitions()
