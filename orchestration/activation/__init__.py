"""Orchestration domain: activation (segments and reverse-ETL syncs from config/*.yaml).

Each sync runs on its `schedule` once what it reads is fresh (orchestration/automation.py).

The `warehouse` resource is bound once for the whole code location (orchestration/definitions).
"""

import dagster as dg

from orchestration.activation.assets import build_sync_asset, load_sync_configs, segment_membership


def build_defs() -> dg.Definitions:
    syncs = load_sync_configs()
    return dg.Definitions(assets=[segment_membership, *(build_sync_asset(s) for s in syncs)])


defs = build_defs()
