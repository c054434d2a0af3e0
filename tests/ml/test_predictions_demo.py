"""`cdp demo` on a small demo retailer (2,000 customers, seed 42: the session's shared run,
tests/demo_build.py): the three models are trained, back-tested against their baselines and
beat them, the scores and recommendations are written with their model versions, the filters
hold on the real catalogue, and the predictive segments are materialised."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pytest


@pytest.fixture(scope="module")
def demo(demo_build):
    """The session's shared demo run (tests/demo_build.py), read in place."""
    assert demo_build.returncode == 0, demo_build.output
    con = duckdb.connect(str(demo_build.data_dir / "warehouse.duckdb"), read_only=True)
    yield demo_build.data_dir, con
    con.close()


def _card(data_dir, name: str) -> dict:
    root = data_dir / "models" / name
    version = json.loads((root / "LATEST").read_text())["version"]
    assert (root / version / "model.joblib").exists()
    return json.loads((root / version / "model_card.json").read_text())


@pytest.mark.parametrize("name", ["propensity", "leads"])
def test_classifier_beats_the_recency_frequency_baseline(demo, name):
    data_dir, _ = demo
    card = _card(data_dir, name)
    backtest = card["backtest"]
    assert backtest is not None, card.get("backtest_note")
    model, base = backtest["metrics"]["model"], backtest["metrics"]["recency_frequency_baseline"]
    assert model["n"] > 100 and 0 < model["churn_rate"] < 0.5  # positive rate
    assert model["pr_auc"] > base["pr_auc"], backtest["metrics"]
    assert model["roc_auc"] > base["roc_auc"], backtest["metrics"]
    # chosen inside the training window: every training label ends before the back-test cutoff
    horizon = timedelta(days=card["horizon_days"])
    for cutoff in backtest["training_cutoffs"]:
        assert _day(cutoff) + horizon <= _day(backtest["cutoff"])
    assert _day(backtest["validation"]["cutoff"]) + horizon <= _day(backtest["cutoff"])


def _day(iso: str):
    from datetime import date

    return date.fromisoformat(iso)


def test_recommender_beats_popularity(demo):
    data_dir, _ = demo
    backtest = _card(data_dir, "recommendations")["backtest"]
    model, pop = backtest["metrics"]["model"], backtest["metrics"]["popularity"]
    assert model["n"] > 100
    assert model["hit_rate_at_5"] > pop["hit_rate_at_5"], backtest["metrics"]
    assert model["recall_at_10"] > pop["recall_at_10"], backtest["metrics"]
    assert backtest["validation"]["until"] == backtest["cutoff"]  # chosen before the test window


def test_scores_and_recommendations_are_written_with_versions(demo):
    data_dir, con = demo
    versions = con.execute(
        "SELECT DISTINCT propensity_model_version, leads_model_version FROM ml.purchase_scores"
    ).fetchall()
    propensity, leads = _card(data_dir, "propensity"), _card(data_dir, "leads")
    assert {v[0] for v in versions} - {None} == {propensity["version"]}
    assert {v[1] for v in versions} - {None} == {leads["version"]}
    both = con.execute(
        "SELECT count(*) FROM ml.purchase_scores "
        "WHERE purchase_propensity IS NOT NULL AND lead_score IS NOT NULL"
    ).fetchone()[0]
    assert both == 0  # a buyer is never a lead
    top = con.execute(
        "SELECT count(*), count(product_1_name), count(product_3_url) "
        "FROM ml.product_recommendations_top"
    ).fetchone()
    assert top[0] > 0 and top[0] == top[1] == top[2]


def test_recommendations_respect_stock_and_recent_purchases(demo):
    _, con = demo
    out_of_stock = con.execute(
        """SELECT count(*) FROM ml.product_recommendations r
           JOIN staging.stg_catalog__products p USING (sku)
           WHERE NOT coalesce(p.is_active, false) OR coalesce(p.stock_quantity, 0) < 1"""
    ).fetchone()[0]
    assert out_of_stock == 0
    # a purchase: a positive line of an order that was not cancelled (as the models read it)
    just_bought = con.execute(
        """WITH bought AS (
               SELECT l.person_id, l.sku, l.ordered_at FROM marts.order_lines l
               JOIN marts.orders o USING (order_key)
               WHERE l.quantity > 0 AND l.person_id IS NOT NULL
                 AND coalesce(lower(o.status), '') NOT IN ('canceled', 'cancelled'))
           SELECT count(*) FROM ml.product_recommendations r JOIN bought b USING (person_id, sku)
           WHERE b.ordered_at >= (SELECT max(ordered_at)::DATE + 1 FROM bought) - INTERVAL 90 DAY"""
    ).fetchone()[0]
    assert just_bought == 0
    reasons = dict(
        con.execute("SELECT reason, count(*) FROM ml.product_recommendations GROUP BY 1").fetchall()
    )
    assert reasons.get("popular", 0) > 0 and any(r.startswith("personalised") for r in reasons)


def test_predictive_segments_are_materialised(demo):
    _, con = demo
    members = dict(
        con.execute(
            "SELECT segment_name, count(*) FROM activation.segment_membership_current GROUP BY 1"
        ).fetchall()
    )
    assert members.get("high_propensity_open_cart", 0) > 0, members
    assert members.get("hot_leads", 0) > 0, members
    wrong = con.execute(
        """SELECT count(*) FROM activation.segment_membership_current m
           JOIN ml.purchase_scores s USING (person_id)
           JOIN marts.customer_360 c USING (person_id)
           WHERE m.segment_name = 'high_propensity_open_cart'
             AND NOT (s.propensity_decile >= 8 AND c.has_open_abandoned_cart)"""
    ).fetchone()[0]
    assert wrong == 0
