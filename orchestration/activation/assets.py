"""Activation assets: segment membership and one asset per configured sync."""

import logging
from pathlib import Path

import dagster as dg
import sqlglot
from sqlglot import exp

from orchestration.automation import derived_asset, sync_condition
from orchestration.shared.dbt import dbt_model_key
from orchestration.shared.resources import WarehouseResource

log = logging.getLogger(__name__)

SEGMENT_MEMBERSHIP = dg.AssetKey(["activation", "segment_membership"])
# customer_360 with the ML scores: what segments and segment syncs read (activation.contract)
CUSTOMER_PROFILES = dbt_model_key("customer_profiles")
CUSTOMER_CONSENT = dbt_model_key("customer_consent")
# schemas whose tables a sync's SQL may read as upstream assets (dbt marts, ml scores)
READ_SCHEMAS = ("marts", "ml")


def _config_dir() -> Path:
    from cdp.settings import get_settings

    return get_settings().config_dir


def sync_asset_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["activation", f"sync_{name}"])


@derived_asset(
    key=SEGMENT_MEMBERSHIP,
    deps=[CUSTOMER_PROFILES],
    group_name="activation",
    description=(
        "Segment membership history (entered_at/exited_at) from config/segments.yaml over "
        "marts.customer_profiles (customer_360 with the ML scores); view "
        "activation.segment_membership_current."
    ),
)
def segment_membership(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from activation.config import segments_path
    from activation.segments import load_segments, materialise

    path = segments_path(_config_dir())
    segments = load_segments(path)
    with warehouse.connect() as con:
        results = materialise(con, segments, path)
    table = "| segment | members | entered | exited |\n|---|---|---|---|\n" + "\n".join(
        f"| {r.name} | {r.members} | {r.entered} | {r.exited} |" for r in results
    )
    return dg.MaterializeResult(
        metadata={
            "segments": dg.MetadataValue.md(table),
            "members": dg.MetadataValue.json({r.name: r.members for r in results}),
        }
    )


def sync_deps(sync) -> list[dg.AssetKey]:
    deps = [SEGMENT_MEMBERSHIP, CUSTOMER_CONSENT]
    if sync.source.segment is not None:
        deps += [CUSTOMER_PROFILES]
    else:
        deps += sql_relations(sync.name, sync.source.sql or "")
    seen, out = set(), []
    for d in deps:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def sql_relations(name: str, sql: str) -> list[dg.AssetKey]:
    """`[schema, table]` of every marts/ml relation the SQL reads (sqlglot, DuckDB dialect)."""
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except sqlglot.errors.ParseError as exc:
        # the sync fails with DuckDB's own error when it runs; here it only loses lineage
        log.warning("sync %s: cannot parse its SQL for lineage (%s)", name, exc)
        return []
    return [
        dg.AssetKey([table.db.lower(), table.name.lower()])
        for table in tree.find_all(exp.Table)
        if table.db.lower() in READ_SCHEMAS
    ]


def build_sync_asset(sync) -> dg.AssetsDefinition:
    name = sync.name

    @dg.asset(
        key=sync_asset_key(name),
        deps=sync_deps(sync),
        group_name="activation",
        description=(
            f"Sync {name}: {sync.description or ''} ({sync.mode} -> {sync.destination.type}). "
            "Sends only added/changed/removed records; consent enforced."
        ).strip(),
        kinds={sync.destination.type},
        automation_condition=sync_condition(sync.schedule),
    )
    def _sync(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from activation.config import load_syncs, segments_path, syncs_path
        from activation.engine import run_sync
        from activation.segments import load_segments

        cfg_dir = _config_dir()
        segments = load_segments(segments_path(cfg_dir))
        current = {s.name: s for s in load_syncs(syncs_path(cfg_dir), segments).syncs}
        if name not in current:
            raise dg.Failure(f"sync {name} is no longer in {syncs_path(cfg_dir)}")
        with warehouse.connect() as con:
            run = run_sync(con, current[name])
        metadata = {
            "run_id": dg.MetadataValue.text(run.run_id),
            "status": dg.MetadataValue.text(run.status),
            "added": dg.MetadataValue.int(run.added),
            "changed": dg.MetadataValue.int(run.changed),
            "removed": dg.MetadataValue.int(run.removed),
            "failed": dg.MetadataValue.int(run.failed),
            "skipped_consent": dg.MetadataValue.int(run.skipped_consent),
            "skipped_invalid": dg.MetadataValue.int(run.skipped_invalid),
            "not_found": dg.MetadataValue.int(run.not_found),
        }
        if run.status == "failed":
            raise dg.Failure(description=run.error or "destination unavailable", metadata=metadata)
        if run.failed:
            context.log.warning(
                f"sync {name}: {run.failed} records failed; see activation.sync_failures "
                "(they are retried on the next run)"
            )
        return dg.MaterializeResult(metadata=metadata)

    return _sync


def load_sync_configs():
    from activation.config import load_syncs, segments_path, syncs_path
    from activation.segments import load_segments

    cfg_dir = _config_dir()
    path = syncs_path(cfg_dir)
    if not path.exists():
        return []
    segs_file = segments_path(cfg_dir)
    segments = load_segments(segs_file) if segs_file.exists() else None
    return [s for s in load_syncs(path, segments).syncs if s.enabled]
