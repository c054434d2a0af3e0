"""The `freshness` blocks of the dbt sources run as Dagster checks on the raw assets."""

from __future__ import annotations

import dagster as dg
import duckdb

from orchestration.shared.resources import WarehouseResource
from orchestration.transform import defs as transform_defs
from orchestration.transform import source_freshness
from orchestration.transform.freshness import CHECK_NAME
from orchestration.transform.resources import dbt_resource

PRODUCTS = dg.AssetKey(["raw_catalog", "products"])  # warn after 2 days, error after 7
WEB_EVENTS = dg.AssetKey(["raw_web", "events"])
CAMPAIGNS = dg.AssetKey(["raw_esp", "campaigns"])
STORES = dg.AssetKey(["raw_pos", "stores"])  # not loaded at all


def test_every_source_freshness_block_is_a_check_on_its_raw_asset() -> None:
    graph = transform_defs.resolve_asset_graph()
    checked = {key.asset_key for key in graph.asset_check_keys if key.name == CHECK_NAME}
    # the 15 source tables of the dbt sources YAML that declare warn_after / error_after
    assert len(checked) == 15
    assert {PRODUCTS, WEB_EVENTS, CAMPAIGNS, dg.AssetKey(["raw_shop", "orders"])} <= checked
    assert dg.AssetKey(["raw_shop", "orders__items"]) not in checked  # no freshness block
    assert all(not spec.blocking for spec in source_freshness.check_specs)


def test_checks_evaluate_fresh_stale_and_missing_tables(tmp_path, monkeypatch) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))  # restored after the test
    with duckdb.connect(str(warehouse)) as con:
        for schema, table, column, age in [
            ("raw_catalog", "products", "updated_at", "1 hour"),
            ("raw_web", "events", "occurred_at", "3 days"),
            ("raw_esp", "campaigns", "sent_at", "30 days"),
        ]:
            con.execute(f"create schema {schema}")
            con.execute(
                f"create table {schema}.{table} as select "
                f"cast(now() - interval '{age}' as varchar) as {column}"
            )
    keys = [PRODUCTS, WEB_EVENTS, CAMPAIGNS, STORES]
    defs = dg.Definitions(
        asset_checks=[source_freshness],
        jobs=[
            dg.define_asset_job(
                "freshness",
                selection=dg.AssetSelection.checks(
                    *[dg.AssetCheckKey(key, CHECK_NAME) for key in keys]
                ),
            )
        ],
        resources={"dbt": dbt_resource, "warehouse": WarehouseResource(path=str(warehouse))},
    )
    result = defs.resolve_job_def("freshness").execute_in_process(raise_on_error=False)
    evaluations = {
        e.asset_check_evaluation_data.asset_key: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert set(evaluations) == set(keys)
    status = {k: evaluations[k].metadata["dbt_status"].value for k in keys}
    assert status == {
        PRODUCTS: "pass",
        WEB_EVENTS: "warn",
        CAMPAIGNS: "error",
        STORES: "no result",
    }
    assert evaluations[PRODUCTS].passed
    assert not evaluations[WEB_EVENTS].passed
    assert evaluations[WEB_EVENTS].severity == dg.AssetCheckSeverity.WARN
    assert not evaluations[CAMPAIGNS].passed
    assert evaluations[CAMPAIGNS].severity == dg.AssetCheckSeverity.ERROR
    assert not evaluations[STORES].passed
    assert 71 < evaluations[WEB_EVENTS].metadata["age_hours"].value < 73
