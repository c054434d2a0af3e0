"""The ingestion domain's Dagster definitions: keys, groups, job, schedule, sensor, and a real
in-process materialisation into a temporary DuckDB file."""

from __future__ import annotations

import json
import os

import dagster as dg
from dagster_dlt import DagsterDltResource

from cdp.settings import get_settings
from orchestration.ingestion import defs, source_assets
from orchestration.shared.resources import WarehouseResource
from tests.ingestion.ingestion_fixtures import count, query, write_landing

EXPECTED_KEYS = {
    ("raw_shop", "customers"),
    ("raw_shop", "customers__addresses"),
    ("raw_shop", "orders"),
    ("raw_shop", "orders__items"),
    ("raw_shop", "carts"),
    ("raw_shop", "carts__items"),
    ("raw_pos", "stores"),
    ("raw_pos", "loyalty_cards"),
    ("raw_pos", "receipts"),
    ("raw_pos", "receipt_lines"),
    ("raw_clienteling", "clients"),
    ("raw_esp", "contacts"),
    ("raw_esp", "campaigns"),
    ("raw_esp", "events"),
    ("raw_web", "events"),
    ("raw_service", "tickets"),
    ("raw_spreadsheets", "event_signups"),
    ("raw_consent", "consent_events"),
    ("raw_catalog", "products"),
}


def test_ingestion_definitions_load_with_contract_keys_and_groups():
    dg.Definitions.validate_loadable(defs)
    specs = list(defs.resolve_all_asset_specs())
    assert {tuple(spec.key.path) for spec in specs} == EXPECTED_KEYS
    for spec in specs:
        assert spec.group_name == spec.key.path[0]
        assert spec.description
        assert not list(spec.deps)
    assert set(defs.resources) == {"dlt", "warehouse"}
    assert defs.resolve_job_def("ingestion_job") is not None
    schedule = defs.resolve_schedule_def("daily_ingestion")
    assert schedule.cron_schedule == "0 5 * * *"
    assert defs.resolve_sensor_def("landing_files_sensor") is not None


def test_landing_sensor_requests_runs_for_changed_sources(cdp_env):
    settings = get_settings()
    write_landing(settings.landing_dir)
    sensor = defs.resolve_sensor_def("landing_files_sensor")

    first = sensor(dg.build_sensor_context(cursor=None))
    assert len(first.run_requests) == 1
    selected = {tuple(k.path) for k in first.run_requests[0].asset_selection}
    assert selected == EXPECTED_KEYS
    cursor = first.cursor

    unchanged = sensor(dg.build_sensor_context(cursor=cursor))
    assert unchanged.run_requests == []
    assert unchanged.cursor == cursor

    products = settings.landing_dir / "catalog/products.csv"
    stat = products.stat()
    os.utime(products, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5 * 10**9))
    changed = sensor(dg.build_sensor_context(cursor=cursor))
    assert len(changed.run_requests) == 1
    assert {tuple(k.path) for k in changed.run_requests[0].asset_selection} == {
        ("raw_catalog", "products")
    }
    assert json.loads(changed.cursor)["catalog"] != json.loads(cursor)["catalog"]


def test_materialise_ingestion_assets_in_process(cdp_env, tmp_path, monkeypatch):
    from cdp_demo.generator import generate

    generate(customers=150, seed=7, out=tmp_path / "gen")
    monkeypatch.setenv("CDP_LANDING_DIR", str(tmp_path / "gen" / "landing"))
    warehouse = tmp_path / "wh.duckdb"
    resources = {"dlt": DagsterDltResource(), "warehouse": WarehouseResource(path=str(warehouse))}

    result = dg.materialize(source_assets, resources=resources)
    assert result.success
    materialised = {
        tuple(event.materialization.asset_key.path): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert set(materialised) == EXPECTED_KEYS
    settings = get_settings().model_copy(update={"warehouse": warehouse})
    for key, metadata in materialised.items():
        table = ".".join(key)
        assert metadata["rows_loaded"].value > 0, key
        assert metadata["dagster/row_count"].value == count(settings, table), key
        assert metadata["dlt_load_ids"].value
    load_id = materialised[("raw_shop", "orders")]["dlt_load_ids"].value
    assert query(settings, "select distinct _dlt_load_id from raw_shop.orders") == [(load_id,)]
    assert not (cdp_env / "warehouse.duckdb").exists()  # the resource's path was used

    # a second materialisation (a subset: two groups) finds nothing new
    again = dg.materialize(
        source_assets,
        resources=resources,
        selection=dg.AssetSelection.groups("raw_shop", "raw_catalog"),
    )
    assert again.success
    events = again.get_asset_materialization_events()
    assert {e.materialization.asset_key.path[0] for e in events} == {"raw_shop", "raw_catalog"}
    for event in events:
        assert event.materialization.metadata["rows_loaded"].value == 0
        key = tuple(event.materialization.asset_key.path)
        assert event.materialization.metadata["dagster/row_count"].value == count(
            settings, ".".join(key)
        )
