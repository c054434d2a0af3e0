"""dbt source freshness as Dagster asset checks on the raw assets.

The `freshness` blocks of the dbt sources YAML (`loaded_at_field`, `warn_after`,
`error_after`) are the one declaration: each source table that has one gets a check
`dbt_source_freshness` on its raw asset (the source's `meta.dagster.asset_key`), evaluated by
`dbt source freshness` on the selected tables. dbt's `warn` is a failed WARN check; `error`,
or no result (a table dbt could not query), a failed ERROR check. The checks are not blocking: stale
data is reported, the load that brought it is not held back.
"""

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource

from orchestration.shared.dbt import warehouse_vars
from orchestration.shared.resources import WarehouseResource

CHECK_NAME = "dbt_source_freshness"


def freshness_sources(
    manifest_path: Path, translator: DagsterDbtTranslator
) -> dict[dg.AssetKey, Mapping[str, Any]]:
    """Raw asset key -> dbt source node, for every source table with a freshness block."""
    manifest = json.loads(Path(manifest_path).read_text())
    out: dict[dg.AssetKey, Mapping[str, Any]] = {}
    for source in manifest["sources"].values():
        freshness = source.get("freshness") or {}
        if any(
            (freshness.get(level) or {}).get("count") for level in ("warn_after", "error_after")
        ):
            out[translator.get_asset_key(source)] = source
    return out


def _criteria(source: Mapping[str, Any]) -> str:
    parts = []
    for level in ("warn_after", "error_after"):
        rule = source["freshness"].get(level) or {}
        if rule.get("count"):
            parts.append(f"{level.split('_')[0]} after {rule['count']} {rule['period']}(s)")
    return f"{source['loaded_at_field']}: " + ", ".join(parts)


def build_source_freshness_checks(
    manifest_path: Path, translator: DagsterDbtTranslator
) -> dg.AssetChecksDefinition:
    """One multi-asset check running `dbt source freshness` on the selected source tables."""
    sources = freshness_sources(manifest_path, translator)
    specs = [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            blocking=False,
            description=(
                f"dbt source freshness of {source['source_name']}.{source['name']} "
                f"({_criteria(source)})."
            ),
        )
        for key, source in sources.items()
    ]

    @dg.multi_asset_check(specs=specs, can_subset=True, name="dbt_source_freshness")
    def dbt_source_freshness(
        context: dg.AssetCheckExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {
            key.asset_key: sources[key.asset_key] for key in context.selected_asset_check_keys
        }
        selectors = [f"source:{s['source_name']}.{s['name']}" for s in selected.values()]
        # one --select value: DbtCliResource keeps only the last word after the flag
        invocation = dbt.cli(
            [
                "source",
                "freshness",
                "--select",
                " ".join(selectors),
                *warehouse_vars(warehouse.location),
            ],
            raise_on_error=False,
        ).wait()
        results = {r["unique_id"]: r for r in invocation.get_artifact("sources.json")["results"]}
        for key, source in selected.items():
            yield _result(key, source, results.get(source["unique_id"]))

    return dbt_source_freshness


def _result(
    key: dg.AssetKey, source: Mapping[str, Any], result: Mapping[str, Any] | None
) -> dg.AssetCheckResult:
    # dbt leaves a table it could not query (missing, unreadable column) out of sources.json
    status = result["status"] if result else "no result"
    metadata: dict[str, Any] = {
        "dbt_status": dg.MetadataValue.text(status),
        "criteria": dg.MetadataValue.text(_criteria(source)),
    }
    if result and result.get("max_loaded_at"):
        metadata["max_loaded_at"] = dg.MetadataValue.text(str(result["max_loaded_at"]))
        metadata["snapshotted_at"] = dg.MetadataValue.text(str(result["snapshotted_at"]))
        age = result.get("max_loaded_at_time_ago_in_s")
        if age is not None:
            metadata["age_hours"] = dg.MetadataValue.float(round(float(age) / 3600, 2))
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=status == "pass",
        severity=dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )
