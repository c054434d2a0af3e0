"""`cdp demo` end to end on a small retailer: every layer is built and reported."""

from __future__ import annotations

import duckdb

from cdp.cli import main


def test_demo_builds_every_layer(cdp_env, capsys):
    exit_code = main(["demo", "--customers", "600", "--seed", "11"])
    out = capsys.readouterr().out
    assert exit_code == 0, out
    for section in (
        "== Steps ==",
        "== Tables (rows) ==",
        "== Quality ==",
        "== Match quality ==",
        "== Churn model ==",
        "== Syncs ==",
    ):
        assert section in out, f"missing {section} in demo output"

    con = duckdb.connect(str(cdp_env / "warehouse.duckdb"), read_only=True)
    persons = con.sql("select count(*) from marts.customer_360").fetchone()[0]
    graph_persons = con.sql(
        "select count(distinct person_id) from identity.identity_graph"
    ).fetchone()[0]
    assert 0 < persons == graph_persons
    scored = con.sql("select count(*) from ml.churn_scores").fetchone()[0]
    assert scored > 0
    assert con.sql("select count(*) from activation.sync_runs").fetchone()[0] > 0
    con.close()
