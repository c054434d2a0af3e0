"""The transform domain in Dagster: definitions, then one in-process run on a generated retailer.

The run (generation of ~1,500 customers, dlt ingestion, dbt staging/intermediate, identity
resolution, dbt golden record and marts, match quality against the generator's ground truth)
is built once for the module; a second run with no new data must not change any person_id.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cdp.settings import get_settings

IDENTITY = dg.AssetKey(["identity", "identity_graph"])


@pytest.fixture(scope="module")
def transform_defs():
    from orchestration.transform import defs

    return defs


def test_dbt_models_keyed_by_schema_and_grouped_by_layer(transform_defs) -> None:
    graph = transform_defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for key in (
        "staging/stg_shop__customers",
        "staging/stg_pos__loyalty_cards",
        "staging/stg_web__events",
        "intermediate/int_identity_records_unioned",
        "intermediate/int_identifiers_unioned",
        "intermediate/int_persons_golden",
        "identity/identity_graph",
        "marts/customer_360",
    ):
        assert key in keys, key
    spec = graph.get(dg.AssetKey(["staging", "stg_shop__customers"]))
    assert spec.group_name == "staging"
    assert graph.get(dg.AssetKey(["marts", "orders"])).group_name == "marts"
    assert graph.get(IDENTITY).group_name == "identity"


def test_lineage_runs_raw_to_staging_to_identity_to_golden_and_marts(transform_defs) -> None:
    graph = transform_defs.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_shop__customers"]))
    assert dg.AssetKey(["raw_shop", "customers"]) in staging.parent_keys
    identity = graph.get(IDENTITY)
    assert identity.parent_keys == {
        dg.AssetKey(["intermediate", "int_identity_records_unioned"]),
        dg.AssetKey(["intermediate", "int_identifiers_unioned"]),
    }
    golden = graph.get(dg.AssetKey(["intermediate", "int_persons_golden"]))
    assert IDENTITY in golden.parent_keys
    # marts reach the identity graph (directly or through the golden record)
    assert IDENTITY in graph.get_ancestor_asset_keys(dg.AssetKey(["marts", "customer_360"]))


def test_dbt_tests_are_asset_checks(transform_defs) -> None:
    graph = transform_defs.resolve_asset_graph()
    checks = {(check.asset_key.to_user_string(), check.name) for check in graph.asset_check_keys}
    assert ("staging/stg_shop__customers", "not_null_stg_shop__customers_customer_id") in checks
    assert ("identity/identity_graph", "match_quality") in checks
    assert ("identity/identity_graph", "identity_graph_is_consistent") in checks


def _run(warehouse: Path):
    from orchestration.shared.resources import WarehouseResource
    from orchestration.transform import defs

    job = defs.resolve_job_def("transform_job")
    resources = {"warehouse": WarehouseResource(path=str(warehouse))}
    return job.execute_in_process(resources=resources, raise_on_error=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cdp_demo.generator import generate

    from ingestion.pipeline import run_all

    data_dir = tmp_path_factory.mktemp("transform") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDP_DATA_DIR", str(data_dir))
        for var in ("CDP_LANDING_DIR", "CDP_GROUND_TRUTH_DIR", "CDP_WAREHOUSE", "CDP_MODELS_DIR"):
            mp.delenv(var, raising=False)
        mp.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))
        settings = get_settings()
        generate(customers=1500, seed=7, out=data_dir)
        report = run_all(settings)
        assert not report["errors"], report["errors"]
        # CDP_WAREHOUSE stays unset: dbt gets the resource's warehouse through --vars
        first = _run(settings.warehouse)
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            graph_after_first = con.execute(
                "select record_id, person_id from identity.identity_graph"
            ).df()
        second_started = time.time()
        second = _run(settings.warehouse)
        yield {
            "settings": settings,
            "first": first,
            "second": second,
            "graph_after_first": graph_after_first,
            "second_started": second_started,
            "warehouse_env_after_runs": os.environ.get("CDP_WAREHOUSE"),
        }


def _failures(result) -> list[str]:
    failed = [
        f"{e.step_key}: {e.event_specific_data.error.message[:500]}"
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]
    failed += [
        f"check {e.asset_check_evaluation_data.asset_key.to_user_string()}:"
        f"{e.asset_check_evaluation_data.check_name}"
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
        and e.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR
    ]
    return failed


def test_run_builds_every_layer_and_dbt_tests_pass(built) -> None:
    result = built["first"]
    assert result.success, _failures(result)
    assert not _failures(result)
    materialized = {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert {
        "staging/stg_shop__customers",
        "identity/identity_graph",
        "marts/customer_360",
    } <= materialized
    with duckdb.connect(str(built["settings"].warehouse), read_only=True) as con:
        for table in ("staging.stg_shop__customers", "staging.stg_pos__receipts", "marts.orders"):
            assert con.execute(f"select count(*) from {table}").fetchone()[0] > 0, table
        records, graph = con.execute(
            "select (select count(*) from intermediate.int_identity_records_unioned),"
            " (select count(*) from identity.identity_graph)"
        ).fetchone()
        assert records == graph > 1500
        persons = con.execute("select count(*) from intermediate.int_persons_golden").fetchone()[0]
        assert (
            persons
            == con.execute(
                "select count(distinct person_id) from identity.identity_graph"
            ).fetchone()[0]
        )
        # every dbt model (tables and staging views) carries its row count, as after the run
        row_counts = {
            e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata.get(
                "dagster/row_count"
            )
            for e in result.all_events
            if e.event_type_value == "ASSET_MATERIALIZATION" and e.step_key.startswith("dbt")
        }
        assert {"staging/stg_shop__customers", "marts/customer_timeline"} <= set(row_counts)
        for key, counted in row_counts.items():
            assert counted is not None, key
            relation = key.replace("/", ".")
            assert counted.value == con.execute(f"select count(*) from {relation}").fetchone()[0]


def test_identity_asset_reports_counts_and_match_quality(built) -> None:
    result = built["first"]
    [materialization] = [
        e.event_specific_data.materialization
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == IDENTITY
    ]
    metadata = materialization.metadata
    assert metadata["records"].value > metadata["persons"].value > 0
    assert metadata["edges_per_rule"].value
    [quality] = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.check_name == "match_quality"
    ]
    scores = {key: value.value for key, value in quality.metadata.items()}
    print("match quality:", scores)
    assert scores["precision"] >= 0.9
    assert scores["recall"] >= 0.7
    assert scores["coverage"] >= 0.99
    assert "trap_pairs_merged" in scores and "over_merged" in scores


def test_rerun_without_new_data_keeps_every_person_id(built) -> None:
    assert built["second"].success, _failures(built["second"])
    with duckdb.connect(str(built["settings"].warehouse), read_only=True) as con:
        after = con.execute("select record_id, person_id from identity.identity_graph").df()
        merges = con.execute("select count(*) from identity.person_merges").fetchone()[0]
    before = built["graph_after_first"]
    joined = before.merge(after, on="record_id", how="outer", suffixes=("_before", "_after"))
    assert len(joined) == len(before) == len(after)
    changed = joined[joined["person_id_before"] != joined["person_id_after"]]
    assert changed.empty, changed.head()
    assert merges == 0
    # the second run took the incremental path: nothing changed, nothing was scored
    [second] = [
        e.event_specific_data.materialization.metadata
        for e in built["second"].all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == IDENTITY
    ]
    assert second["mode"].value == "incremental"
    changes = second["incremental"].value
    assert changes["new_records"] == changes["changed_records"] == changes["pairs_scored"] == 0


def test_dbt_gets_the_warehouse_without_changing_the_environment(built) -> None:
    # the marts were built in the resource's warehouse (test above), CDP_WAREHOUSE untouched
    assert built["warehouse_env_after_runs"] is None


def test_the_dbt_steps_share_the_warehouses_target_folder_and_parse(built) -> None:
    """Every dbt step of both runs used the warehouse's target folder (run_target_path), and
    the second run's steps reused its partial parse, though this process loaded the
    definitions for another warehouse: a full parse rewrites `partial_parse.msgpack`."""
    from orchestration.shared.dbt import run_target_path

    target = run_target_path(str(built["settings"].warehouse))
    assert target.parent == built["settings"].warehouse.parent
    assert target.stat().st_mode & 0o077 == 0  # private, as the data folder
    assert (target / "run_results.json").stat().st_mtime > built["second_started"]
    assert (target / "partial_parse.msgpack").stat().st_mtime < built["second_started"]
