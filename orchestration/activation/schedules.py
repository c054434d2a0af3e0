"""One schedule per sync, from its `schedule` cron; it refreshes segment membership first."""

from __future__ import annotations

import dagster as dg

from orchestration.activation.assets import SEGMENT_MEMBERSHIP, sync_asset_key


def build_schedules(syncs) -> list[dg.ScheduleDefinition]:
    out = []
    for sync in syncs:
        if not sync.schedule:
            continue
        selection = dg.AssetSelection.assets(sync_asset_key(sync.name))
        if sync.source.segment is not None:
            selection = selection | dg.AssetSelection.assets(SEGMENT_MEMBERSHIP)
        out.append(
            dg.ScheduleDefinition(
                name=f"sync_{sync.name}_schedule",
                target=selection,
                cron_schedule=sync.schedule,
                execution_timezone="UTC",
                description=f"Runs sync {sync.name} ({sync.schedule} UTC)",
            )
        )
    return out
