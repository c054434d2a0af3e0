"""The `freshness` blocks of the dbt sources run as Dagster checks on the raw assets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.shared.dbt import translator
from orchestration.shared.resources import WarehouseResource
from orchestration.transform import defs as transform_defs
from orchestration.transform import source_freshness
from orchestration.transform.freshness import (
    CHECK_NAME,
    freshness_sources,
    measure,
    profile_settings,
)
from orchestration.transform.resources import dbt_project
from tests.dbt.test_marts import dbt_paths

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
        resources={"warehouse": WarehouseResource(path=str(warehouse))},
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


def test_verdicts_equal_dbt_source_freshness_on_the_same_tables(tmp_path) -> None:
    """The check runs dbt's freshness query itself: on fresh, stale, empty, date-typed and
    missing tables, and a time written without an offset, it agrees with `dbt source
    freshness` table by table (dbt leaves out a table it could not query: no result)."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set TimeZone = 'America/New_York'")  # the profile's UTC must win
        for schema, table, value in [
            ("raw_catalog", "products", "cast(now() - interval '1 hour' as varchar)"),
            ("raw_web", "events", "cast(now() - interval '3 days' as varchar)"),
            ("raw_esp", "campaigns", "cast(now() - interval '30 days' as varchar)"),
            # no offset: read in the session's time zone, UTC in the profile
            (
                "raw_esp",
                "events",
                "strftime(now() at time zone 'UTC' - interval '47 hours', '%Y-%m-%d %H:%M:%S')",
            ),
            ("raw_pos", "stores", "current_date - 3"),
        ]:
            column = (
                "sent_at"
                if table == "campaigns"
                else ("occurred_at" if table == "events" else "updated_at")
            )
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{table} as select {value} as {column}")
        con.execute("create schema raw_shop")
        con.execute("create table raw_shop.orders (updated_at varchar)")  # empty
    sources = {
        s["source_name"] + "." + s["name"]: s
        for s in freshness_sources(dbt_project.manifest_path, translator).values()
    }
    names = [
        "catalog.products",
        "web.events",
        "esp.campaigns",
        "esp.events",
        "pos.stores",
        "shop.orders",
        "service.tickets",
    ]  # tickets: not loaded
    with duckdb.connect(str(warehouse)) as con:
        for name, value in profile_settings().items():
            con.execute(f"SET {name} = '{value}'")
        ours = {n: measure(con, sources[n]) for n in names}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "source",
            "freshness",
            "--select",
            *[f"source:{n}" for n in names],
            "--vars",
            json.dumps({"cdp_warehouse": str(warehouse), "cdp_threads": 1}),
            *dbt_paths(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    results = json.loads((tmp_path / "target" / "sources.json").read_text())["results"]
    theirs = {r["unique_id"].split(".", 2)[2]: r for r in results}
    assert {n: (r or {}).get("status") for n, r in ours.items()} == {
        n: theirs[n]["status"] if n in theirs else None for n in names
    }, done.stdout
    assert {n: r and r["status"] for n, r in ours.items()} == {
        "catalog.products": "pass",
        "web.events": "warn",
        "esp.campaigns": "error",
        "esp.events": "pass",  # 47 h: read as UTC, not New York
        "pos.stores": "warn",
        "shop.orders": "error",
        "service.tickets": None,
    }
    for name in ("web.events", "esp.events", "shop.orders"):
        assert (
            abs(
                ours[name]["max_loaded_at_time_ago_in_s"]
                - theirs[name]["max_loaded_at_time_ago_in_s"]
            )
            < 120
        ), name
