"""Dagster: Definitions load, blocking checks stop downstream assets, quarantine asset metadata."""

from __future__ import annotations

import dagster as dg
import duckdb

from data_quality.suites import all_suites, get_suite
from orchestration.quality import build_defs, present_asset_keys
from orchestration.quality.assets import QUARANTINE_KEY, build_quarantine_asset
from orchestration.quality.checks import QualityGXResource, build_suite_check
from orchestration.shared.resources import WarehouseResource
from tests.data_quality.dq_fixtures import make_marts, make_raw_shop

C360 = dg.AssetKey(["marts", "customer_360"])
SEGMENTS = dg.AssetKey(["activation", "segment_membership"])


def _resources(path) -> dict:
    return {"warehouse": WarehouseResource(path=str(path)), "quality_gx": QualityGXResource()}


def _graph(marker, *, duplicate_person: bool, blocking: bool = True):
    @dg.asset(key=C360)
    def customer_360(warehouse: WarehouseResource) -> None:
        with warehouse.connect() as con:
            make_marts(con, duplicate_person=duplicate_person)

    @dg.asset(key=SEGMENTS, deps=[C360])
    def segment_membership() -> None:
        marker.write_text("ran")

    check = build_suite_check(get_suite("marts.customer_360"), blocking=blocking)
    return [customer_360, segment_membership, check]


def test_location_definitions_load_with_the_current_tree():
    from orchestration.definitions import defs

    defs.get_repository_def().get_all_jobs()
    graph = defs.resolve_asset_graph()
    assert QUARANTINE_KEY in graph.get_all_asset_keys()
    suite_checks = {k.asset_key for k in graph.asset_check_keys if k.name == "quality_suite"}
    present = present_asset_keys()
    # a check for every contract table some domain defines, and none for absent tables
    assert suite_checks == {dg.AssetKey(s.asset_key) for s in all_suites()} & present
    assert dg.AssetKey(["raw_shop", "orders"]) in suite_checks  # ingestion has landed
    assert {k.asset_key for k in graph.asset_check_keys} <= graph.get_all_asset_keys()


def test_checks_exist_only_for_present_assets_and_block_activation_marts():
    defs = build_defs({C360, dg.AssetKey(["raw_shop", "orders"]), dg.AssetKey(["other", "x"])})
    checks = {spec.asset_key: spec for c in defs.asset_checks for spec in c.check_specs}
    assert set(checks) == {C360, dg.AssetKey(["raw_shop", "orders"])}
    assert checks[C360].blocking
    assert not checks[dg.AssetKey(["raw_shop", "orders"])].blocking
    [asset] = defs.assets
    assert dg.AssetKey(["raw_shop", "orders"]) in asset.asset_deps[QUARANTINE_KEY]


def test_failing_blocking_check_stops_downstream(cdp_env, tmp_path):
    marker = tmp_path / "segments.txt"
    result = dg.materialize(
        _graph(marker, duplicate_person=True),
        resources=_resources(tmp_path / "w.duckdb"),
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    md = evaluation.metadata
    assert "person_id_unique" in md["failing_expectations"].value
    assert md["failing_rows"].value["person_id_unique"][0] == {"person_id": "P1"}
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert C360 in materialized and SEGMENTS not in materialized
    assert not marker.exists()


def test_passing_blocking_check_lets_downstream_run(cdp_env, tmp_path):
    marker = tmp_path / "segments.txt"
    result = dg.materialize(
        _graph(marker, duplicate_person=False),
        resources=_resources(tmp_path / "w.duckdb"),
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert marker.read_text() == "ran"
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        n = con.execute(
            "SELECT count(*) FROM quality.validation_results WHERE asset = 'marts.customer_360'"
        ).fetchall()[0][0]
    assert n > 0
    assert (cdp_env / "quality" / "data_docs" / "index.html").exists()


def test_quarantine_asset_reports_counts(cdp_env, tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        make_raw_shop(con, bad=True)
    asset = build_quarantine_asset([dg.AssetKey(["raw_shop", "orders"])])
    result = dg.materialize([asset], resources={"warehouse": WarehouseResource(path=str(path))})
    [mat] = result.get_asset_materialization_events()
    md = mat.materialization.metadata
    assert md["quarantined_rows"].value == 5
    assert md["by_rule"].value["raw_shop.orders:negative_amount"] == 1
    [check] = result.get_asset_check_evaluations()
    assert check.passed


def test_data_docs_are_built_once_per_run_with_every_suite(cdp_env, tmp_path, monkeypatch):
    from data_quality.runner import GXValidator

    builds = []
    build_docs = GXValidator.build_docs

    def counting(self):
        builds.append(sorted(self._validated))
        return build_docs(self)

    monkeypatch.setattr(GXValidator, "build_docs", counting)
    orders = dg.AssetKey(["raw_shop", "orders"])

    @dg.asset(key=orders)
    def raw_orders(warehouse: WarehouseResource) -> None:
        with warehouse.connect() as con:
            make_raw_shop(con, bad=False)

    graph = [*_graph(tmp_path / "segments.txt", duplicate_person=False), raw_orders]
    graph.append(build_suite_check(get_suite("raw_shop.orders"), blocking=False))
    result = dg.materialize(graph, resources=_resources(tmp_path / "w.duckdb"))
    assert len(result.get_asset_check_evaluations()) == 2
    validated = [names for names in builds if names]
    assert validated == [
        [
            "marts.customer_360.columns",
            "marts.customer_360.metrics",
            "raw_shop.orders.columns",
            "raw_shop.orders.metrics",
        ]
    ]
    index = (cdp_env / "quality" / "data_docs" / "index.html").read_text()
    assert "raw_shop.orders.columns" in index and "marts.customer_360.metrics" in index
