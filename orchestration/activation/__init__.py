"""Orchestration domain: activation (segments and reverse-ETL syncs from config/*.yaml).

The `warehouse` resource is bound once for the whole code location (orchestration/definitions).
"""

import dagster as dg

from orchestration.activation.assets import build_sync_asset, load_sync_configs, segment_membership
from orchestration.activation.schedules import build_schedules


def build_defs() -> dg.Definitions:
    syncs = load_sync_configs()
    return dg.Definitions(
        assets=[segment_membership, *(build_sync_asset(s) for s in syncs)],
        schedules=build_schedules(syncs),
    )


defs = build_defs()
