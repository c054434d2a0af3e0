"""Transform assets: dbt (staging, intermediate, golden record, marts) and identity resolution.

Lineage: raw dlt tables -> dbt staging -> dbt `int_identity_records_unioned` and
`int_identifiers_unioned` -> Python asset `["identity", "identity_graph"]` -> dbt golden record
and marts (they read the graph through the dbt source `identity.identity_graph`, whose
`meta.dagster.asset_key` is this asset's key). Dagster splits the dbt selection around the
Python asset, so one run builds staging, resolves identities, then builds the marts.
"""

import json
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd
from dagster_dbt import DbtCliResource, dbt_assets

from cdp.settings import get_settings
from cdp.warehouse import table_exists
from orchestration.automation import derived_condition
from orchestration.shared.dbt import (
    dbt_model_key,
    dbt_project,
    run_target_path,
    translator,
    warehouse_vars,
)
from orchestration.shared.keys import FULL_REFRESH_TAG
from orchestration.shared.resources import WarehouseResource

IDENTITY_GRAPH_KEY = dg.AssetKey(["identity", "identity_graph"])
RECORDS_KEY = dbt_model_key("int_identity_records_unioned")
IDENTIFIERS_KEY = dbt_model_key("int_identifiers_unioned")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    name="dbt_models",
)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """`dbt build` of the selected models (their data and unit tests become asset checks);
    with `--full-refresh` when the run carries the tag `cdp/dbt_full_refresh: true`.

    Each model's materialisation carries `dagster/row_count` (a view's is the rows it reads
    as now), counted once dbt has finished (DuckDB allows no second connection while dbt
    writes).
    dagster-dbt's own `fetch_row_counts()` does the same wait but leaves dbt-duckdb's
    connection open in this process, and every later step then fails to open the warehouse.
    """
    args = ["build", *warehouse_vars(warehouse.location)]
    if context.run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    target = run_target_path(warehouse.location)
    events = list(dbt.cli(args, context=context, target_path=target).stream())
    with warehouse.connect() as con:
        tables = {
            (schema, name)
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables() where not internal "
                "union select schema_name, view_name from duckdb_views() where not internal"
            ).fetchall()
        }
        for event in events:
            if isinstance(event, dg.Output):
                key = context.asset_key_for_output(event.output_name)
            elif isinstance(event, dg.AssetMaterialization):
                key = event.asset_key
            else:
                yield event
                continue
            path = tuple(key.path)
            if path in tables:
                rows = con.execute(f'select count(*) from "{path[0]}"."{path[1]}"').fetchall()
                metadata = {**event.metadata, "dagster/row_count": dg.MetadataValue.int(rows[0][0])}
                event = event.with_metadata(metadata)
            yield event


def source_keys(source_name: str) -> list[dg.AssetKey]:
    """Asset keys of the dbt source tables of `source_name` (manifest), e.g. the ML scores."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return [
        translator.get_asset_key(source)
        for source in manifest["sources"].values()
        if source["source_name"] == source_name
    ]


def _read_table(con, qualified: str) -> pd.DataFrame | None:
    exists = table_exists(con, qualified)
    return con.execute(f"select * from {qualified}").df() if exists else None


def _write_table(con, qualified: str, frame: pd.DataFrame, *, append: bool = False) -> None:
    con.register("_frame", frame)
    try:
        if append and table_exists(con, qualified):
            con.execute(f"insert into {qualified} by name select * from _frame")
        else:
            con.execute(f"create or replace table {qualified} as select * from _frame")
    finally:
        con.unregister("_frame")


@dg.asset(
    key=IDENTITY_GRAPH_KEY,
    deps=[RECORDS_KEY, IDENTIFIERS_KEY],
    group_name="identity",
    automation_condition=derived_condition(),
    kinds={"python", "duckdb"},
    description=(
        "Identity resolution (identity) of every identified source record: writes "
        "identity.identity_graph (record -> person), identity.identity_edges, "
        "identity.cluster_report, identity.possible_matches and appends identity.person_merges "
        "and identity.match_models (the model estimated by this run, as JSON). "
        "Person ids are kept stable across runs from the previous graph. Incremental when the "
        "last run left its state (schema identity_state: record_fingerprints, "
        "candidate_links, capped_blocks, term_frequencies, resolution_state) under the same "
        "config: only new "
        "and changed records are scored, with the saved model; in full (model re-estimated) "
        "otherwise or on a run tagged cdp/dbt_full_refresh (`cdp run --full-refresh`)."
    ),
    check_specs=[dg.AssetCheckSpec("identity_graph_is_consistent", asset=IDENTITY_GRAPH_KEY)],
)
def identity_graph(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[Any]:
    from identity import load_config, resolve
    from identity.explain import model_markdown
    from identity.incremental import STATE_SCHEMA, STATE_TABLES, state_from_tables, state_tables
    from identity.records import read_inputs

    started = time.perf_counter()
    config = load_config(get_settings().config_dir / "identity.yaml")
    with warehouse.connect() as con:
        records, identifiers = read_inputs(con)
        previous = _read_table(con, "identity.identity_graph")
        prior = None
        if previous is not None and context.run.tags.get(FULL_REFRESH_TAG) != "true":
            tables = {
                name: _read_table(con, f"{STATE_SCHEMA}.{name}")
                for name in (*STATE_TABLES, "resolution_state")
            }
            possible = _read_table(con, "identity.possible_matches")
            prior = state_from_tables(tables, possible, config)

    result = resolve(records, identifiers, config, previous, prior=prior)

    graph = result.graph.merge(
        records[["record_id", "source_system"]], on="record_id", how="left", validate="1:1"
    )
    graph["source_key"] = graph["record_id"].str.split(":", n=1).str[1]
    graph = graph[["record_id", "source_system", "source_key", "person_id", "match_rule"]]
    resolved_at = pd.Timestamp.now(tz="UTC")
    merges = result.merges.assign(resolved_at=resolved_at)
    stats_model = result.stats["model"]

    with warehouse.connect() as con:
        con.execute("create schema if not exists identity")
        con.execute("begin transaction")
        _write_table(con, "identity.identity_graph", graph)
        _write_table(con, "identity.identity_edges", result.edges)
        _write_table(con, "identity.cluster_report", result.cluster_report)
        _write_table(con, "identity.possible_matches", result.possible_matches)
        _write_table(con, "identity.person_merges", merges, append=True)
        if result.splits is not None:
            splits = result.splits.assign(resolved_at=resolved_at)
            _write_table(con, "identity.person_splits", splits, append=True)
        if result.state is not None:  # none for no records: the next run is a full one
            con.execute(f"create schema if not exists {STATE_SCHEMA}")
            for name, frame in state_tables(result.state).items():
                _write_table(con, f"{STATE_SCHEMA}.{name}", frame)
        model = pd.DataFrame({"resolved_at": [resolved_at], "model": [json.dumps(stats_model)]})
        _write_table(con, "identity.match_models", model, append=True)
        con.execute("commit")

    stats = result.stats
    seconds = round(time.perf_counter() - started, 3)
    context.log.info(
        f"{stats.get('mode', 'full')} resolution: {stats['records']} records -> {stats['persons']} persons "
        f"in {seconds}s (edges per rule: {stats['edges_per_rule']})"
    )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(graph)),
            "records": dg.MetadataValue.int(int(stats["records"])),
            "persons": dg.MetadataValue.int(int(stats["persons"])),
            "largest_person": dg.MetadataValue.int(int(stats["largest_person"])),
            "edges_per_rule": dg.MetadataValue.json(stats["edges_per_rule"]),
            "records_per_rule": dg.MetadataValue.json(stats["records_per_rule"]),
            "merges": dg.MetadataValue.int(len(merges)),
            "splits": dg.MetadataValue.int(int(stats.get("splits", 0))),
            "mode": dg.MetadataValue.text(stats.get("mode", "full")),
            "incremental": dg.MetadataValue.json(stats.get("incremental", {})),
            "possible_matches": dg.MetadataValue.int(len(result.possible_matches)),
            "report_rows": dg.MetadataValue.int(len(result.cluster_report)),
            "engine_seconds": dg.MetadataValue.json(stats.get("seconds", {})),
            "match_prior": dg.MetadataValue.float(float(stats_model["prior"])),
            "match_model": dg.MetadataValue.md(model_markdown(stats_model)),
            "seconds": dg.MetadataValue.float(seconds),
        }
    )
    unknown = int(graph["source_system"].isna().sum())
    duplicated = int(graph["record_id"].duplicated().sum())
    missing = len(records) - len(graph)
    yield dg.AssetCheckResult(
        check_name="identity_graph_is_consistent",
        passed=unknown == 0 and duplicated == 0 and missing == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "records_without_person": dg.MetadataValue.int(missing),
            "duplicated_record_ids": dg.MetadataValue.int(duplicated),
            "records_of_unknown_system": dg.MetadataValue.int(unknown),
        },
    )


@dg.asset_check(
    asset=IDENTITY_GRAPH_KEY,
    name="match_quality",
    description=(
        "Pairwise precision, recall and F1 of the identity graph against the generator's "
        "ground truth (ground_truth/identity.parquet), with over/under-merged persons and trap "
        "merges. Skipped (passes with a note) when no ground truth exists, as in production."
    ),
    blocking=False,
)
def match_quality(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from identity import evaluate

    truth_dir = get_settings().ground_truth_dir
    truth_path = truth_dir / "identity.parquet"
    if not truth_path.exists():
        return dg.AssetCheckResult(
            passed=True,
            metadata={"ground_truth": dg.MetadataValue.text(f"none at {truth_path}")},
        )
    truth = pd.read_parquet(truth_path)
    traps_path = truth_dir / "traps.parquet"
    traps = pd.read_parquet(traps_path) if traps_path.exists() else None
    with warehouse.connect(read_only=True) as con:
        graph = con.execute("select record_id, person_id from identity.identity_graph").df()
    scores = evaluate(graph, truth, traps)
    metadata: dict[str, Any] = {
        "precision": dg.MetadataValue.float(round(float(scores["precision"]), 5)),
        "recall": dg.MetadataValue.float(round(float(scores["recall"]), 5)),
        "f1": dg.MetadataValue.float(round(float(scores["f1"]), 5)),
        "over_merged": dg.MetadataValue.int(int(scores["over_merged"])),
        "under_merged": dg.MetadataValue.int(int(scores["under_merged"])),
        "records_scored": dg.MetadataValue.int(int(scores["records_scored"])),
        "records_in_truth": dg.MetadataValue.int(int(scores["records_in_truth"])),
        "true_persons": dg.MetadataValue.int(int(scores["true_persons"])),
        "predicted_persons": dg.MetadataValue.int(int(scores["predicted_persons"])),
    }
    if "trap_pairs_merged" in scores:
        metadata["trap_pairs_merged"] = dg.MetadataValue.int(int(scores["trap_pairs_merged"]))
        metadata["trap_pairs_by_type"] = dg.MetadataValue.json(scores["trap_pairs_by_type"])
    coverage = scores["records_scored"] / max(scores["records_in_truth"], 1)
    metadata["coverage"] = dg.MetadataValue.float(round(float(coverage), 5))
    return dg.AssetCheckResult(
        passed=scores.get("trap_pairs_merged", 0) == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )
