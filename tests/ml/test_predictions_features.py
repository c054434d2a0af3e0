"""Propensity, lead and recommendation inputs are point-in-time: events after the cutoff
change no feature, no population, no interaction weight and no popularity share."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml import recommend as rec
from ml.behaviour import BehaviourData
from ml.prediction_config import RecommendationsConfig
from ml.propensity_features import LEADS, PROPENSITY, feature_names, features_at, labelled_at
from tests.ml.behaviour_synth import synth_behaviour

CUTOFF = date(2024, 6, 30)
END = pd.Timestamp(CUTOFF) + pd.Timedelta(days=1)  # exclusive end of the cutoff day
TIME_COLUMN = {
    "orders": "ordered_at",
    "order_lines": "ordered_at",
    "product_events": "occurred_at",
    "web_events": "occurred_at",
    "email_events": "occurred_at",
    "carts": "abandoned_at",
    "identified": "occurred_at",
}


def _before(frames: dict) -> dict:
    return {k: f[f[TIME_COLUMN[k]] < END] for k, f in frames.items()}


def _with_later_events(frames: dict, seed: int = 1) -> dict:
    """Every table gets copies of its rows moved after the cutoff (the first second of the next
    day included), for known persons and for newcomers, and the orders get first purchases
    of the leads."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, frame in frames.items():
        col = TIME_COLUMN[name]
        later = frame.sample(min(400, len(frame)), random_state=seed).copy()
        later[col] = END + pd.to_timedelta(rng.integers(0, 200 * 86400, len(later)), unit="s")
        later.iloc[0, later.columns.get_loc(col)] = END  # exactly at the end of the day
        newcomers = later.head(30).assign(customer_id=lambda d: "NEW" + d["customer_id"])
        if "order_id" in later:
            later["order_id"] = "LATE" + later["order_id"]
            newcomers["order_id"] = "NEW" + newcomers["order_id"]
        out[name] = pd.concat([frame, later, newcomers], ignore_index=True)
    return out


def _data(frames: dict) -> BehaviourData:
    return BehaviourData.from_frames(**frames)


@pytest.fixture(scope="module")
def worlds():
    frames = synth_behaviour(600, 300, seed=3)
    return _data(_before(frames)), _data(_with_later_events(frames))


@pytest.mark.parametrize("task", [PROPENSITY, LEADS])
def test_every_feature_ignores_events_after_the_cutoff(worlds, task):
    small, big = worlds
    a = features_at(small, task, CUTOFF, 30)
    b = features_at(big, task, CUTOFF, 30)
    names = feature_names(a)
    assert len(a) > 100
    # each feature varies across persons, so a leak into any one of them would show
    constant = [n for n in names if a[n].nunique(dropna=False) < 2]
    assert not constant, constant
    pd.testing.assert_frame_equal(a, b)
    # the labelled frame has the same features; only the label looks after the cutoff
    labelled = labelled_at(big, task, CUTOFF, 30)
    pd.testing.assert_frame_equal(a, labelled.drop(columns="bought"))
    assert labelled["bought"].sum() > 0


def test_feature_lists_cover_product_cart_web_email_and_identity_signals(worlds):
    small, _ = worlds
    prop = set(feature_names(features_at(small, PROPENSITY, CUTOFF, 30)))
    assert {"product_views_7d", "add_to_carts_30d", "days_since_last_abandoned_cart"} <= prop
    assert {"recency_days", "orders_all", "email_opens_90d", "web_sessions_7d"} <= prop
    leads = set(feature_names(features_at(small, LEADS, CUTOFF, 30)))
    assert {"days_since_identified", "identified_touches_90d", "product_views_30d"} <= leads
    assert "recency_days" not in leads  # leads have no purchase history


def test_lead_population_is_identified_before_the_cutoff_and_never_bought(worlds):
    _small, big = worlds
    leads = set(features_at(big, LEADS, CUTOFF, 30)["customer_id"])
    buyers = set(features_at(big, PROPENSITY, CUTOFF, 30)["customer_id"])
    assert leads and not leads & buyers
    assert not any(p.startswith("NEW") for p in leads | buyers)
    # a lead who buys after the cutoff is still a lead at the cutoff
    later_buyers = set(big.bought_within(CUTOFF, 3650)["customer_id"])
    assert leads & later_buyers


def test_recommendation_inputs_ignore_events_after_the_cutoff(worlds):
    small, big = worlds
    cfg = RecommendationsConfig()
    a, b = rec.interactions_at(small, CUTOFF, cfg), rec.interactions_at(big, CUTOFF, cfg)
    assert a.matrix.nnz > 1000
    assert list(a.users) == list(b.users) and list(a.items) == list(b.items)
    assert (a.matrix != b.matrix).nnz == 0
    pd.testing.assert_series_equal(
        rec.popularity_at(small, CUTOFF, 90), rec.popularity_at(big, CUTOFF, 90)
    )
    pd.testing.assert_frame_equal(
        rec.recently_bought(small, CUTOFF, 90), rec.recently_bought(big, CUTOFF, 90)
    )


@pytest.mark.parametrize("task", [PROPENSITY, LEADS])
def test_training_sample_is_a_deterministic_subset_with_the_full_features(worlds, task):
    """The per-cutoff cap (`max_rows_per_cutoff`) draws persons by a hash, within each label
    class, before the features are computed: the sampled rows equal the full frame's rows
    (BG/NBD outputs included) and the draw repeats; the features of the drawn persons are
    those computed without any event after the cutoff (only the label looks after it)."""
    small, big = worlds
    full = labelled_at(big, task, CUTOFF, 30)
    a = labelled_at(big, task, CUTOFF, 30, max_rows=60, seed=42)
    again = labelled_at(
        _data(_with_later_events(synth_behaviour(600, 300, seed=3))),
        task,
        CUTOFF,
        30,
        max_rows=60,
        seed=42,
    )
    assert len(full) > 100 and len(a) == 60
    pd.testing.assert_frame_equal(a, again)
    expected = full[full["customer_id"].isin(a["customer_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, expected)
    before = features_at(small, task, CUTOFF, 30)
    before = before[before["customer_id"].isin(a["customer_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns="bought"), before)


@pytest.mark.parametrize("task", [PROPENSITY, LEADS])
def test_training_sample_keeps_the_share_of_positives(worlds, task):
    """Stratified by the label: the buyers keep their share of the population exactly
    (rounded), where a plain hash cut of the same size gets it by chance."""
    _small, big = worlds
    full = labelled_at(big, task, CUTOFF, 30)
    rate = full["bought"].mean()
    assert 0 < rate < 0.5
    for n, seed in ((60, 42), (45, 1), (80, 7)):
        a = labelled_at(big, task, CUTOFF, 30, max_rows=n, seed=seed)
        assert len(a) == n
        assert a["bought"].sum() == max(1, round(n * full["bought"].sum() / len(full)))
    # a rare class is never drawn away: one positive at least
    tiny = labelled_at(big, task, CUTOFF, 30, max_rows=max(2, int(0.5 / rate)), seed=3)
    assert tiny["bought"].sum() >= 1
