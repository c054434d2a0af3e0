"""Recommendation filters: nothing out of stock, nothing just bought, popular products for a
person with no history, lists filled when the filters cut them short; the metrics."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ml import recommend as rec
from ml.behaviour import BehaviourData
from ml.prediction_config import RecommendationCandidate, RecommendationsConfig
from tests.ml.behaviour_synth import SKUS, synth_behaviour

CUTOFF = date(2025, 6, 30)
CFG = RecommendationsConfig(top_n=10, exclude_bought_days=365)


@pytest.fixture(scope="module")
def fitted():
    data = BehaviourData.from_frames(**synth_behaviour(500, 100, seed=7))
    model = rec._fit(data, CUTOFF, RecommendationCandidate(kind="als", factors=4), CFG, 1, 1)
    return data, model


def test_only_products_in_stock(fitted):
    _data, model = fitted
    allowed = set(SKUS[::2])  # half the catalogue out of stock
    persons = pd.Index([*model.interactions.users[:200], "NOBODY"])
    recs = model.recommend(persons, 10, allowed=allowed)
    assert set(recs["sku"]) <= allowed
    assert {"personalised:als", "popular"} <= set(recs["reason"])
    assert (recs.groupby("customer_id").size() == 10).all()


def test_nothing_bought_in_the_exclusion_window(fitted):
    data, model = fitted
    recent = rec.recently_bought(data, CUTOFF, CFG.exclude_bought_days)
    assert len(recent) > 100
    persons = pd.Index(recent["customer_id"].unique())
    recs = model.recommend(persons, 10, exclude=recent)
    clash = recs.merge(recent, on=["customer_id", "sku"])
    assert clash.empty, clash
    # without the filter the same persons would have been offered some of them
    unfiltered = model.recommend(persons, 10).merge(recent, on=["customer_id", "sku"])
    assert len(unfiltered) > 0
    assert (recs.groupby("customer_id").size() == 10).all()  # filled back to top_n


def test_person_without_history_gets_the_popular_in_stock_products(fitted):
    data, model = fitted
    allowed = set(SKUS[:30])
    recs = model.recommend(pd.Index(["NOBODY"]), 5, allowed=allowed)
    expected = [
        s for s in rec.popularity_at(data, CUTOFF, CFG.popularity_days).index if s in allowed
    ]
    assert list(recs["sku"]) == expected[:5]
    assert list(recs["rank"]) == [1, 2, 3, 4, 5]
    assert set(recs["reason"]) == {rec.FALLBACK}


def test_popularity_only_model_falls_back_for_everyone(fitted):
    data, _ = fitted
    popular = rec._fit(data, CUTOFF, None, CFG, 1, 1)
    recs = popular.recommend(pd.Index(["C1", "C2"]), 3)
    assert set(recs["reason"]) == {rec.FALLBACK}
    assert list(recs[recs["customer_id"] == "C1"]["sku"]) == list(popular.popularity.index[:3])


def test_hit_rate_and_recall_on_a_hand_built_case():
    recs = pd.DataFrame(
        {
            "customer_id": ["a"] * 10 + ["b"] * 10,
            "rank": list(range(1, 11)) * 2,
            "sku": [f"x{i}" for i in range(10)] + [f"y{i}" for i in range(10)],
        }
    )
    bought = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "sku": ["x0", "z", "y7", "x0"]})
    m = rec.hit_rate_recall(recs, bought)
    # a: hit in top 5, recall 1/2; b: found at rank 8 (no top-5 hit), recall 1; c: nothing
    assert m["hit_rate_at_5"] == pytest.approx(1 / 3)
    assert m["recall_at_10"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["n"] == 3


def test_candidate_is_chosen_inside_the_training_window(fitted):
    data, _ = fitted
    trained = rec.train(data, CUTOFF, CFG, 1, 1)
    v = trained.validation
    assert v["until"] == CUTOFF.isoformat() and v["cutoff"] < CUTOFF.isoformat()
    assert rec.POPULARITY in v["metrics"] and v["chosen"] in v["metrics"]
    assert trained.as_of == CUTOFF
