"""Orchestration domain: activation (segments and reverse-ETL syncs from config/*.yaml).

Each sync runs on its `schedule` once what it reads is fresh (orchestration/automation.py).
"""

import dagster as dg

from orchestration.activation.assets import build_sync_asset, load_sync_configs, segment_membership
from orchestration.shared.resources import warehouse_resource


def build_defs() -> dg.Definitions:
    syncs = load_sync_configs()
    return dg.Definitions(
        assets=[segment_membership, *(build_sync_asset(s) for s in syncs)],
        resources={"warehouse": warehouse_resource},
    )


defs = build_defs()
