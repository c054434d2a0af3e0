"""Recommendation filters: nothing out of stock, nothing just bought, popular products for a
person with no history, lists filled when the filters cut them short; the blend of personal and
popular scores; the metrics and the choice inside the training window."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
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


@pytest.mark.parametrize("kind", ["als", "item_cooccurrence", "item_cosine", "bm25"])
def test_score_is_the_blend_of_personal_and_popular_distributions(fitted, kind):
    data, _ = fitted
    model = rec._fit(data, CUTOFF, RecommendationCandidate(kind=kind, neighbours=50), CFG, 1, 1)
    persons = model.interactions.users[:50]
    personal = np.clip(model._scores(model.interactions.users.get_indexer(persons)), 0, None)
    personal /= personal.sum(axis=1, keepdims=True)
    pop = model.popularity.reindex(model.interactions.items, fill_value=0).to_numpy()
    pop = pop / pop.sum()
    for a in (0.25, 1.0):
        recs = replace(model, blend=a).recommend(persons, 10)
        assert (recs["reason"] == f"personalised:{kind}").all()
        want = a * personal + (1 - a) * pop
        row = persons.get_indexer(recs["customer_id"])
        col = model.interactions.items.get_indexer(recs["sku"])
        assert np.allclose(recs["score"], want[row, col])
        # each list is the person's top 10 of the blend (ties aside)
        tenth = -np.sort(-want, axis=1)[:, 9]
        assert (recs["score"].to_numpy() >= tenth[row] - 1e-12).all()


def test_an_item_is_not_its_own_neighbour(fitted):
    data, _ = fitted
    model = rec._fit(data, CUTOFF, RecommendationCandidate(kind="item_cooccurrence"), CFG, 1, 1)
    assert model.model.similarity.diagonal().max() == 0
    assert model.model.similarity.nnz > 0


def test_validation_tries_every_blend_weight_of_every_candidate(fitted):
    data, _ = fitted
    cfg = CFG.model_copy(
        update={
            "candidates": (RecommendationCandidate(kind="item_cosine", neighbours=50),),
            "blend_weights": (0.3, 1.0),
        }
    )
    trained = rec.train(data, CUTOFF, cfg, 1, 1)
    names = set(trained.validation["metrics"])
    assert names == {rec.POPULARITY, "item_cosine_1@0.3", "item_cosine_1@1"}
    chosen = trained.validation["chosen"]
    assert chosen in names
    if chosen != rec.POPULARITY:
        assert trained.blend == float(chosen.split("@")[1])


def test_category_affinity_is_the_persons_category_share_times_in_category_popularity():
    lines = pd.DataFrame(
        {
            "customer_id": ["p", "p", "p", "q", "q", "r", "r"],
            "ordered_at": pd.to_datetime(["2025-06-01"] * 7),
            "sku": ["A1", "A1", "B1", "A2", "B1", "A1", "B2"],
            "quantity": 1.0,
        }
    )
    orders = lines.assign(order_id=lambda d: d["customer_id"] + d["sku"], amount=1.0)
    groups = pd.DataFrame({"sku": ["A1", "A2", "B1", "B2"], "item_group": list("AABB")})
    data = BehaviourData.from_frames(
        orders[["customer_id", "order_id", "ordered_at", "amount"]], order_lines=lines
    ).with_item_groups(groups)
    model = rec._fit(data, CUTOFF, RecommendationCandidate(kind="category"), CFG, 1, 1)
    recs = model.recommend(pd.Index(["p"]), 4).set_index("sku")["score"]
    # p: 2 of 3 lines in A, 1 in B; buyers: A1 2 of 3, A2 1, B1 2, B2 1
    assert recs["A1"] == pytest.approx(2 / 3 * 2 / 3)
    assert recs["A2"] == pytest.approx(2 / 3 * 1 / 3)
    assert recs["B1"] == pytest.approx(1 / 3 * 2 / 3)
    assert recs["B2"] == pytest.approx(1 / 3 * 1 / 3)
    # without the catalogue's categories the candidate is skipped by the validation
    bare = BehaviourData.from_frames(
        orders[["customer_id", "order_id", "ordered_at", "amount"]], order_lines=lines
    )
    cfg = CFG.model_copy(update={"candidates": (RecommendationCandidate(kind="category"),)})
    trained = rec.train(bare, CUTOFF, cfg, 1, 1)
    assert trained.validation["skipped"] == ["category_1: no catalogue categories"]
    assert trained.kind == rec.POPULARITY
