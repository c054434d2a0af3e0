"""The recommender's bounds at scale: ALS product factors fitted on a hash sample of persons
with every person's factors solved afterwards, and the validation graded on a hash sample of
a window's buyers (the same persons whatever the row order)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml import recommend as rec
from ml.behaviour import BehaviourData
from ml.prediction_config import RecommendationCandidate, RecommendationsConfig
from tests.ml.behaviour_synth import synth_behaviour

CUTOFF = date(2025, 6, 30)


def _two_tastes(n: int = 2000, seed: int = 3) -> rec.Interactions:
    """Persons of even index buy among products 0-9, the others among 10-19."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for u in range(n):
        first = 0 if u % 2 == 0 else 10
        for i in rng.choice(10, size=4, replace=False):
            rows.append(u)
            cols.append(first + i)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, 20))
    users = pd.Index([f"P{u:05d}" for u in range(n)], dtype=object)
    return rec.Interactions(users, pd.Index([f"S{i:02d}" for i in range(20)]), matrix)


def _als():
    cand = RecommendationCandidate(kind="als", factors=4, regularization=0.1, iterations=10)
    return rec._make_model(cand, seed=1, threads=1)


def test_persons_outside_the_fit_sample_get_factors_of_their_own_taste():
    inter = _two_tastes()
    model = _als()
    rec._fit_factors(model, inter, max_persons=200)
    assert model.user_factors.shape == (len(inter.users), 4)
    scores = model.user_factors @ model.item_factors.T
    best = scores.argmax(axis=1)
    taste = np.arange(len(inter.users)) % 2 == 0
    # the product each person is most drawn to is of their own kind, for nearly everyone
    # (1,800 of the 2,000 were never in the fit: random start factors would give half)
    assert ((best < 10) == taste).mean() > 0.95


def test_the_fit_sample_is_the_same_persons_however_the_rows_are_ordered():
    inter = _two_tastes(n=600)
    order = np.random.default_rng(0).permutation(len(inter.users))
    shuffled = rec.Interactions(inter.users[order], inter.items, inter.matrix[order])
    a, b = _als(), _als()
    rec._fit_factors(a, inter, max_persons=100)
    rec._fit_factors(b, shuffled, max_persons=100)
    np.testing.assert_allclose(a.item_factors, b.item_factors, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(a.user_factors[order], b.user_factors, rtol=1e-4, atol=1e-5)


def test_a_small_base_is_fitted_whole():
    inter = _two_tastes(n=300)
    sampled, whole = _als(), _als()
    rec._fit_factors(sampled, inter, max_persons=300)
    whole.fit(inter.matrix, show_progress=False)
    np.testing.assert_array_equal(sampled.user_factors, whole.user_factors)


def test_graded_buyers_are_a_hash_sample_with_all_their_purchases():
    frames = synth_behaviour(500, 50, seed=7)
    data = BehaviourData.from_frames(**frames)
    start, end = date(2024, 6, 30), CUTOFF
    every = rec.purchases_between(data, start, end)
    sample = rec.purchases_between(data, start, end, max_buyers=40)
    buyers = set(sample["customer_id"].astype(str))
    assert len(buyers) == 40 < every["customer_id"].nunique()
    # every purchase of a sampled buyer in the window, and nothing else
    mine = every[every["customer_id"].astype(str).isin(buyers)].astype(str)
    pd.testing.assert_frame_equal(
        sample.astype(str).reset_index(drop=True), mine.reset_index(drop=True)
    )
    # the same buyers from the same rows in another order
    lines = frames["order_lines"].sample(frac=1.0, random_state=1)
    other = BehaviourData.from_frames(**{**frames, "order_lines": lines})
    again = rec.purchases_between(other, start, end, max_buyers=40)
    assert set(again["customer_id"].astype(str)) == buyers


def test_interactions_of_several_cutoffs_in_one_pass_equal_those_of_each():
    data = BehaviourData.from_frames(**synth_behaviour(500, 50, seed=7))
    cfg = RecommendationsConfig(history_days=200)
    cutoffs = [date(2024, 12, 31), date(2025, 3, 31), CUTOFF]
    alone = [rec.interactions_at(data, c, cfg) for c in cutoffs]
    with rec.interactions_of(data, cutoffs, cfg):
        assert rec._weights_key(cfg) in data.cache
        planned = [rec.interactions_at(data, c, cfg) for c in cutoffs]
    assert rec._weights_key(cfg) not in data.cache
    for a, b in zip(alone, planned, strict=True):
        assert a.matrix.nnz > 0
        pd.testing.assert_index_equal(a.users, b.users)
        pd.testing.assert_index_equal(a.items, b.items)
        assert (a.matrix != b.matrix).nnz == 0
    # the windows differ, so the one pass kept the cutoffs apart
    assert alone[0].matrix.nnz != alone[2].matrix.nnz
