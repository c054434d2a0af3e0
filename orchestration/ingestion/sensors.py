"""Start an ingestion run when new or changed files land in the landing folder.

The cursor is a JSON map `{source: digest of (file name, size, mtime) of its inputs}`; a source
whose digest changed gets its raw assets materialised; the `cdp_automation` sensor then rebuilds
what depends on them (orchestration/automation.py). Off in a new instance (`cdp demo` turns it on
in its own); runs queue one at a time on the warehouse (docs/operations.md).
"""

from __future__ import annotations

import json

import dagster as dg

from orchestration.ingestion.jobs import ingestion_job


def build_landing_sensor(asset_keys_by_source: dict[str, list[dg.AssetKey]]) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_files_sensor",
        job=ingestion_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Materialise the raw tables of every source whose landing files changed.",
    )
    def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        from ingestion.pipeline import source_fingerprints

        previous = json.loads(context.cursor) if context.cursor else {}
        current = source_fingerprints()
        changed = sorted(
            name
            for name, digest in current.items()
            if previous.get(name) != digest and name in asset_keys_by_source
        )
        if not changed:
            return dg.SensorResult(
                skip_reason="no new or changed files", cursor=json.dumps(current, sort_keys=True)
            )
        selection = [key for name in changed for key in asset_keys_by_source[name]]
        run_key = "|".join(f"{name}:{current[name]}" for name in changed)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=run_key,
                    asset_selection=selection,
                    tags={"cdp/changed_sources": ",".join(changed)},
                )
            ],
            cursor=json.dumps(current, sort_keys=True),
        )

    return landing_files_sensor
