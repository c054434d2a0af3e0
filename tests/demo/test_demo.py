"""`cdp demo` end to end on a small retailer: every layer is built and reported.

The demo run is the session's shared one (tests/demo_build.py: 2,000 customers, seed 42, an
unseen-noise retailer of 400); its full re-run after the erasure is in test_demo_rerun.py.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from cli.main import main
from tests.demo_build import use


def test_demo_builds_every_layer(demo_build, monkeypatch):
    out = demo_build.output
    assert demo_build.returncode == 0, out
    for section in (
        "== Steps ==",
        "== Tables (rows) ==",
        "== Quality ==",
        "== Match quality ==",
        "== Match quality (unseen noise) ==",
        "== Churn model ==",
        "== Syncs ==",
        "== Privacy requests ==",
        "== Automation ==",
    ):
        assert section in out, f"missing {section} in demo output"
    # a line per finished step while the run goes on, named by what it built (not op names)
    progress = out.split("== Steps ==")[0]
    assert re.search(r"(?m)^  ok +ingest shop: \d+ tables \(raw_shop/", progress), progress
    assert re.search(r"(?m)^  ok +dbt build: \d+ tables \(", progress), progress
    assert re.search(r"(?m)^  ok +serving/snapshot \(", progress), progress
    unseen = out.split("== Match quality (unseen noise) ==")[1].split("==")[0]
    scores = re.search(r"precision (\d\.\d{4})\s+recall (\d\.\d{4})\s+F1 (\d\.\d{4})", unseen)
    assert scores and 0 < float(scores[2]) <= 1 and float(scores[1]) > 0.9, unseen
    assert re.search(r"records [\d,]+ -> persons [\d,]+ \(true persons [\d,]+\)", unseen)
    assert (demo_build.data_dir / "unseen_noise" / "ground_truth" / "identity.parquet").exists()
    assert "turned on in " in out and "cdp_automation" in out  # shown running by `make ui`

    con = duckdb.connect(str(demo_build.data_dir / "warehouse.duckdb"), read_only=True)
    persons = con.execute("select count(*) from marts.customer_360").fetchone()[0]
    graph_persons = con.execute(
        "select count(distinct person_id) from identity.identity_graph"
    ).fetchone()[0]
    assert 0 < persons == graph_persons
    scored = con.execute("select count(*) from ml.churn_scores").fetchone()[0]
    assert scored > 0
    # every demo sync ran twice and the second round sent nothing new; the third, after the
    # erasure, sent only the vendors' deletions, all confirmed, no identifier kept
    runs = con.execute(
        "select sync_name, status, added + changed + removed as sent, erased, "
        "row_number() over (partition by sync_name order by started_at) as round "
        "from activation.sync_runs"
    ).df()
    assert set(runs["round"]) == {1, 2, 3} and (runs["status"] == "success").all(), runs
    assert runs.loc[runs["round"] == 1, "sent"].sum() > 0
    assert runs.loc[runs["round"] > 1, "sent"].sum() == 0, runs
    assert runs.loc[runs["round"] == 3, "erased"].sum() > 0, runs
    owed = con.execute(
        "select count(*), count(key), count(*) filter (where status <> 'confirmed') "
        "from activation.sync_erasures"
    ).fetchall()[0]
    assert owed[0] > 0 and owed[1:] == (0, 0), owed
    statuses = con.execute("select kind, status from privacy.requests order by 1").fetchall()
    assert statuses == [("access", "done"), ("erase", "done")]
    privacy = out.split("== Privacy requests ==")[1].split("==")[0]
    assert "@" not in privacy and re.search(r"(?m)^access +req-\w+: done", privacy), privacy
    assert re.search(r"(?m)^erase +req-\w+: done; 1 person", privacy), privacy
    assert re.search(r"HubSpot/Klaviyo/webhook: [1-9]\d* before, 0 after", privacy), privacy
    con.close()
    # readers' snapshot: published by the run, then again with the demo syncs' history
    from cdp import serving
    from cdp.settings import get_settings

    use(monkeypatch, demo_build.data_dir)
    with serving.connect(get_settings()) as snap:
        served = snap.execute(
            "select (select count(*) from marts.customer_360), "
            "(select count(*) from activation.sync_runs), (select count(*) from app.search_vocab), "
            "(select count(*) from app.person_records)"  # republished after the erasure
        ).fetchall()[0]
    assert served[:2] == (persons, len(runs)) and served[2] > 0 and served[3] > 0
    # `make demo`: the automation is on in the demo's own instance, as `make ui` reads it
    import dagster as dg

    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME of the build, set by `use`
        running = {
            state.name
            for state in instance.all_instigator_state()
            if state.status.value == "RUNNING"
        }
    assert running == {"cdp_automation", "landing_files_sensor", "daily_ingestion"}


def test_match_quality_on_both_noise_profiles(demo_build):
    """The identity engine on the demo's retailer of each noise profile (`standard`, the demo's
    own, and `unseen`, the second retailer), as the demo reports them (the `match_quality`
    check), and the unseen one scored again from its graph by identity.evaluate (the main
    warehouse lost a person to the demo's erasure). Only stable facts are asserted (the
    matcher changes); the figures are printed.
    """
    import pandas as pd

    from identity import evaluate

    out = demo_build.output
    assert demo_build.returncode == 0, out
    reported = {}
    for noise, folder, section in (
        ("standard", demo_build.data_dir, "== Match quality =="),
        ("unseen", demo_build.data_dir / "unseen_noise", "== Match quality (unseen noise) =="),
    ):
        text = out.split(section)[1].split("==")[0].strip().split("\n\n")[0]
        found = re.search(
            r"precision (\d\.\d{4})\s+recall (\d\.\d{4}).*trap pairs merged (\d+)", text, re.S
        )
        assert found, text
        precision, recall, trap_pairs = float(found[1]), float(found[2]), int(found[3])
        print(f"\n{noise:<9} {' '.join(text.split())}")
        assert precision >= 0.99 and 0 < recall <= 1
        # every planted trap kind (households, shared phones, placeholder and shop e-mails,
        # homonyms) stays apart under the parameters estimated on this file
        assert len(pd.read_parquet(folder / "ground_truth" / "traps.parquet")) > 0
        assert trap_pairs == 0, text
        reported[noise] = precision, recall
    folder = demo_build.data_dir / "unseen_noise"
    truth = pd.read_parquet(folder / "ground_truth" / "identity.parquet")
    traps = pd.read_parquet(folder / "ground_truth" / "traps.parquet")
    assert len(truth) > 400 and truth["person_id"].nunique() > 200
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        graph = con.execute("select record_id, person_id from identity.identity_graph").df()
    scores = evaluate(graph, truth, traps)
    assert scores["records_scored"] == scores["records_in_truth"]
    assert (scores["precision"], scores["recall"]) == pytest.approx(reported["unseen"], abs=5e-5)
    assert scores["trap_records"] > 0 and scores["trap_pairs_merged"] == 0


def test_bench_groups_steps_into_stages_and_compares_ingestion_with_the_floor():
    from pathlib import Path

    from cdp_demo.bench import format_stages, stage_totals

    from cli.runner import RunReport, StepReport

    steps = [
        StepReport("ingest_shop", 4.0, 300 * 2**20, "ok", rows=8000),
        StepReport("ingest_web", 2.0, 200 * 2**20, "ok", rows=4000),
        StepReport("raw_shop__orders_quality_suite", 1.0, 100 * 2**20, "ok"),
        StepReport("dbt_models", 10.0, 900 * 2**20, "ok"),
        StepReport("dbt_models_2", 5.0, 950 * 2**20, "ok"),
        StepReport("identity__identity_graph", 3.0, 500 * 2**20, "ok", rows=100),
    ]
    report = RunReport(Path("x.log"), "run", True, 25.0, 950 * 2**20, steps=steps)
    stages = {name: (secs, peak) for name, secs, peak in stage_totals(report)}
    assert stages["ingestion (dlt)"] == (6.0, 300 * 2**20)
    assert stages["dbt (staging, golden record, marts)"] == (15.0, 950 * 2**20)
    assert "segments" not in stages  # no step, no line
    text = format_stages(report, {"shop": 2.0, "web": 0.5})
    assert "shop" in text and " 2.0 " in text  # 4.0 s of dlt for 2.0 s of DuckDB
    assert "web" in text and " 4.0 " in text


def test_bench_after_an_asset_selects_only_what_is_downstream(tmp_path):
    import dagster as dg
    import pytest
    from cdp_demo.demo import outside_of

    exclude = outside_of("identity/identity_graph")
    assert exclude(dg.AssetKey(["identity", "identity_graph"]))  # already built: kept as is
    assert exclude(dg.AssetKey(["raw_shop", "orders"]))  # upstream: not reloaded
    assert not exclude(dg.AssetKey(["marts", "customer_360"]))
    assert not exclude(dg.AssetKey(["ml", "churn_scores"]))
    with pytest.raises(SystemExit, match="no asset"):
        outside_of("marts/nope")
    # the demo's unseen-noise retailer builds the graph and what it is built from, nothing else
    keep = outside_of("identity/identity_graph", upstream=True)
    assert not keep(dg.AssetKey(["identity", "identity_graph"]))
    assert not keep(dg.AssetKey(["raw_shop", "orders"]))
    assert not keep(dg.AssetKey(["staging", "stg_shop__customers"]))
    assert keep(dg.AssetKey(["marts", "customer_360"]))
    assert keep(dg.AssetKey(["ml", "churn_scores"]))
    with pytest.raises(SystemExit, match="no warehouse"):
        main(["bench", "--workdir", str(tmp_path), "--after", "identity/identity_graph"])
