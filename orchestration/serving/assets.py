"""The serving snapshot asset: publishes cdp.serving's snapshot with the app's tables."""

from __future__ import annotations

import dagster as dg

from cdp.serving import SERVED_SCHEMAS
from orchestration.automation import derived_condition
from orchestration.shared.resources import WarehouseResource

SNAPSHOT_KEY = dg.AssetKey(["serving", "snapshot"])


def served_keys(domains: list[dg.Definitions]) -> list[dg.AssetKey]:
    """Keys of the assets that write a served table (the first path element is the schema)."""
    served = {entry.split(".")[0] for entry in SERVED_SCHEMAS if "." not in entry}
    tables = {tuple(entry.split(".")) for entry in SERVED_SCHEMAS if "." in entry}
    keys = [key for d in domains for asset in d.assets or [] for key in _keys(asset)]
    return sorted(
        {k for k in keys if k.path[0] in served or tuple(k.path[:2]) in tables},
        key=lambda k: k.to_user_string(),
    )


def _keys(asset: object) -> list[dg.AssetKey]:
    """Keys of an assets definition (several for dbt and dlt) or of a spec."""
    if isinstance(asset, dg.AssetsDefinition):
        return list(asset.keys)
    key = getattr(asset, "key", None)
    return [key] if isinstance(key, dg.AssetKey) else []


def publish_snapshot(warehouse: str | None = None, schemas: tuple[str, ...] = SERVED_SCHEMAS):
    """Publish the snapshot with the app's tables (search index, per-person tables), under the
    warehouse's writer lock (re-entrant: a run's resource already holds it)."""
    from app.snapshot import BUILDERS
    from cdp.serving import publish
    from cdp.settings import get_settings
    from cdp.warehouse_lock import warehouse_lock

    settings = get_settings()
    with warehouse_lock(warehouse or settings.warehouse):
        return publish(settings, schemas=schemas, builders=BUILDERS, warehouse=warehouse)


def build_snapshot_asset(domains: list[dg.Definitions]) -> dg.AssetsDefinition:
    @dg.asset(
        key=SNAPSHOT_KEY,
        deps=served_keys(domains),
        group_name="serving",
        automation_condition=derived_condition(),
        kinds={"duckdb"},
        description=(
            "Read-only copy of the marts, scores, segments, sync history and identity tables "
            "(plus the app's search index) that BI tools, `cdp app`, `cdp segments`, `cdp syncs` "
            "and sync dry runs read, swapped in atomically: <data dir>/serving/serving.duckdb."
        ),
    )
    def serving_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
        from cdp.warehouse import connect as duckdb_connect

        path = publish_snapshot(warehouse.location)
        with duckdb_connect(str(path), read_only=True) as con:
            rows = dict(
                con.execute("select table_name, row_count from serving.manifest").fetchall()
            )
        return dg.MaterializeResult(
            metadata={
                "snapshot": dg.MetadataValue.path(str(path)),
                "tables": dg.MetadataValue.int(len(rows)),
                "dagster/row_count": dg.MetadataValue.int(int(rows.get("marts.customer_360", 0))),
            }
        )

    return serving_snapshot
