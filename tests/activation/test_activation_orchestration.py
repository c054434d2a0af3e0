"""Dagster assets/schedules, the CLI and the demo on a synthetic warehouse."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.activation.act_helpers import VIP_TABLE_SYNC, synthetic_env

SYNCS_YAML = """
syncs:
  - name: ads_store_only
    source: {segment: store_only_customers}
    destination:
      type: audience_file
      options: {platform: meta, directory: DIR}
    mode: mirror
    key: lower(email)
    fields: {email: email, phone: phone}
    schedule: "0 4 * * *"
""" + VIP_TABLE_SYNC.lstrip("\n")


@pytest.fixture
def env(cdp_env: Path, monkeypatch):
    return synthetic_env(cdp_env, monkeypatch, SYNCS_YAML)


def _metadata(result):
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out[mat.asset_key.path[-1]] = mat.metadata
    return out


def test_dagster_assets_deps_schedules_and_metadata(env):
    from orchestration.activation import build_defs
    from orchestration.shared.resources import WarehouseResource

    wh = WarehouseResource(path=str(env.warehouse))
    defs = build_defs()  # loads alone: the domain binds `warehouse` itself
    graph = defs.resolve_asset_graph()
    seg = dg.AssetKey(["activation", "segment_membership"])
    # segments read customer_profiles, which dbt builds from customer_360 and the ML scores
    assert set(graph.get(seg).parent_keys) == {dg.AssetKey(["marts", "customer_profiles"])}
    vip = dg.AssetKey(["activation", "sync_vip_table"])
    assert {
        seg,
        dg.AssetKey(["marts", "customer_360"]),
        dg.AssetKey(["marts", "customer_consent"]),
    } <= set(graph.get(vip).parent_keys)
    # no clock of its own: the sync's cron is a cadence over fresh upstream data
    assert not list(defs.schedules or [])
    condition = graph.get(dg.AssetKey(["activation", "sync_ads_store_only"])).automation_condition
    assert "on_cron(0 4 * * *, UTC)" in str(condition.get_label() or condition)

    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(assets, resources={"warehouse": wh})
    assert result.success
    mats = _metadata(result)
    meta = mats["sync_ads_store_only"]
    assert meta["added"].value > 0 and meta["skipped_consent"].value > 0
    assert meta["changed"].value == 0 and meta["failed"].value == 0
    # second materialisation: nothing changed, nothing sent
    result = dg.materialize(assets, resources={"warehouse": wh})
    again = _metadata(result)
    assert again["sync_ads_store_only"]["added"].value == 0


def test_cli_segments_syncs_and_dry_run(env, capsys):
    from cli.main import main

    assert main(["segments", "--refresh"]) == 0
    out = capsys.readouterr().out
    assert "store_only_customers" in out and "abandoned_cart_7d" in out
    assert main(["sync", "vip_table", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run of sync vip_table" in out and "would add" in out
    assert not Path(env.data_dir / "vip.db").exists()
    assert main(["sync", "vip_table"]) == 0
    assert main(["syncs"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("vip_table"))
    assert "success" in line and "+" in line
    assert main(["sync", "nope"]) == 2


@pytest.mark.services
def test_demo_second_run_sends_only_changes(env):
    from cdp_demo.demo_syncs import run_demo_syncs

    with duckdb.connect(str(env.warehouse)) as con:
        con.execute("DELETE FROM marts.customer_360 WHERE revenue_total < 1000")
    text = run_demo_syncs(env)
    lines = [ln for ln in text.splitlines() if ln.strip().startswith(("1 ", "2 "))]
    first = [ln for ln in lines if ln.strip().startswith("1 ")]
    second = [ln for ln in lines if ln.strip().startswith("2 ")]
    assert len(first) == len(second) == 2
    assert any(int(ln.split()[3]) > 0 for ln in first)
    assert all(ln.split()[3:7] == ["0", "0", "0", "0"] for ln in second)
    assert "second run: 0 records sent" in text
    assert list((env.data_dir / "audiences" / "meta").glob("*.csv"))
