"""Churn training, baselines and the time-based backtest on a planted signal."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ml.config import ChurnConfig
from ml.features import ChurnData
from ml.glm import GLM_NAME, fit_glm, glm_transform
from ml.metrics import calibration_table, lift_top_decile
from ml.model import (
    MODEL,
    RECENCY,
    RFM,
    InsufficientHistoryError,
    _trees,
    _value_choice,
    build_frame,
    evaluate,
    train,
    training_cutoffs,
    training_plan,
)
from ml.purchase import PURCHASE_FEATURES
from tests.ml.churn_synth import synth_orders

EVAL = date(2025, 6, 30)
CFG = ChurnConfig(
    max_rows_per_cutoff=5000,
    model={"max_iter": 80, "min_samples_leaf": 50},
    purchase_model={"max_fit_rows": 3000},
)


@pytest.fixture(scope="module")
def planted():
    orders, tickets = synth_orders(4000, seed=11, with_tickets=True)
    return orders, tickets, ChurnData.from_frames(orders, tickets=tickets)


def test_training_cutoffs_keep_labels_inside_the_history():
    cfg = ChurnConfig(horizon_days=180, cutoff_spacing_days=90, n_training_cutoffs=6)
    cutoffs = training_cutoffs(EVAL, date(2024, 1, 1), cfg)
    assert cutoffs == sorted(cutoffs)
    assert cutoffs[-1] == EVAL - timedelta(days=180)
    assert all(c + timedelta(days=180) <= EVAL for c in cutoffs)
    assert all((c - date(2024, 1, 1)).days >= cfg.min_history_days for c in cutoffs)
    # 2025-01-01, 2024-10-03, 2024-07-05; 2024-04-06 has only 96 days of history before it
    assert cutoffs == [date(2024, 7, 5), date(2024, 10, 3), date(2025, 1, 1)]


def test_model_beats_recency_and_is_calibrated_on_planted_signal(planted):
    _orders, _tickets, data = planted
    trained = train(data, EVAL, CFG)
    assert all(c + timedelta(days=CFG.horizon_days) <= EVAL for c in trained.training_cutoffs)
    # the ticket signal is invisible to the label-free models: validation picks the booster
    assert trained.chosen == MODEL
    assert set(trained.validation["metrics"]) == {MODEL, GLM_NAME, "bgnbd", "pnbd"}
    ev, _frame = evaluate(trained, data, EVAL, CFG)
    m, r, rfm = ev.metrics[MODEL], ev.metrics[RECENCY], ev.metrics[RFM]
    assert m["brier"] < min(ev.metrics["bgnbd"]["brier"], ev.metrics["pnbd"]["brier"])
    # the low-satisfaction-ticket signal is invisible to both baselines
    assert m["roc_auc"] > r["roc_auc"] + 0.01
    assert m["roc_auc"] > rfm["roc_auc"] + 0.01
    assert m["brier"] < r["brier"]
    assert m["roc_auc"] > 0.8
    assert abs(m["mean_predicted"] - m["churn_rate"]) < 0.05
    table = ev.calibration[MODEL]
    assert len(table) == 10 and table["n"].sum() == m["n"]
    assert np.max(np.abs(table["mean_predicted"] - table["observed_rate"])) < 0.15


def test_training_as_of_a_date_ignores_everything_after_it(planted):
    orders, tickets, data = planted
    cut = pd.Timestamp(EVAL) + pd.Timedelta(days=1)
    other = ChurnData.from_frames(
        orders[orders["ordered_at"] < cut].copy(),
        tickets=tickets[tickets["created_at"] < cut].copy(),
    )
    a = train(data, EVAL, CFG)
    b = train(other, EVAL, CFG)
    fa, fb = a.frame(data, EVAL, CFG), b.frame(other, EVAL, CFG)
    # value: equal up to float summation order inside DuckDB, which the maximum-likelihood
    # fit of the spend model carries to its optimizer's tolerance (6e-6 and 2.4e-5 relative
    # seen on fresh clones); a leaked order would move values by whole percents
    spend = [c for c in fa.columns if "expected_revenue" in c]
    pd.testing.assert_frame_equal(fa.drop(columns=spend), fb.drop(columns=spend))
    pd.testing.assert_frame_equal(fa[spend], fb[spend], rtol=1e-4)
    np.testing.assert_array_equal(a.predict(fa), b.predict(fb))  # the churn features are exact
    np.testing.assert_allclose(a.predict_value(fa), b.predict_value(fb), rtol=1e-4)
    # the validation (every candidate, the logistic one included) and the choices it makes
    assert (a.chosen, a.label_free, a.value_model) == (b.chosen, b.label_free, b.value_model)
    for name, m in a.validation["metrics"].items():
        assert m == pytest.approx(b.validation["metrics"][name], rel=1e-9)
    for name, m in a.validation["value_metrics"].items():
        assert m == pytest.approx(b.validation["value_metrics"][name], rel=1e-6)


def test_logistic_candidate_ignores_everything_after_the_cutoff(planted):
    """The logistic candidate, forced as the chosen scorer, gives the same scores whether or
    not the data holds orders after the cutoff (its features and its labelled cutoffs are all
    read inside the history)."""
    orders, _tickets, _data = planted
    cutoff = date(2022, 9, 30)  # 9 months: a shortened label horizon, so the
    cut = pd.Timestamp(cutoff) + pd.Timedelta(days=1)  # extrapolation is exercised too
    cfg = CFG.model_copy(update={"n_training_cutoffs": 3})
    scores = []
    for frame in (orders, orders[orders["ordered_at"] < cut]):
        data = ChurnData.from_frames(frame.copy())
        trained = train(data, cutoff, cfg)
        labelled = [
            build_frame(data, c, cfg, trained.label_horizon_days, labelled=True)[0]
            for c in trained.training_cutoffs
        ]
        trained.glm, trained.chosen = fit_glm(labelled), GLM_NAME
        scores.append(trained.predict(trained.frame(data, cutoff, cfg)))
    assert GLM_NAME in trained.validation["metrics"]
    assert trained.label_horizon_days < cfg.horizon_days
    assert np.all((scores[0] > 0) & (scores[0] < 1))
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-9)


def test_same_seed_same_scores(planted):
    _orders, _tickets, data = planted
    a, b = train(data, EVAL, CFG), train(data, EVAL, CFG)
    np.testing.assert_array_equal(
        a.predict(a.frame(data, EVAL, CFG)), b.predict(b.frame(data, EVAL, CFG))
    )


def test_one_labelled_cutoff_validates_only_the_label_free_models(planted):
    _orders, _tickets, data = planted
    cfg = CFG.model_copy(update={"n_training_cutoffs": 1})
    trained = train(data, EVAL, cfg)
    assert trained.training_cutoffs == [EVAL - timedelta(days=180)]
    assert trained.chosen in ("bgnbd", "pnbd") and trained.model is None
    assert set(trained.validation["metrics"]) == {"bgnbd", "pnbd"}
    assert "only one labelled cutoff" in trained.validation["note"]
    p = trained.predict(trained.frame(data, EVAL, cfg))
    assert np.all((p >= 0) & (p <= 1))


def test_no_labelled_cutoff_falls_back_to_bgnbd_unvalidated(planted):
    orders, _tickets, _data = planted
    young = ChurnData.from_frames(orders[orders["ordered_at"] < "2022-03-01"].copy())
    trained = train(young, date(2022, 2, 28), CFG)
    assert trained.training_cutoffs == [] and trained.chosen == "bgnbd"
    assert "nothing to validate" in trained.validation["note"]
    frame = trained.frame(young, date(2022, 2, 28), CFG)
    p = trained.predict(frame)
    assert len(p) == frame["customer_id"].nunique() > 0 and np.all((p >= 0) & (p <= 1))


def test_no_purchase_before_the_as_of_date_is_a_clear_error(planted):
    orders, _tickets, _data = planted
    with pytest.raises(InsufficientHistoryError, match="no purchase on or before"):
        train(ChurnData.from_frames(orders), date(2020, 1, 1), CFG)


@pytest.mark.parametrize("months", [6, 9, 12])
def test_short_histories_score_every_customer(planted, months):
    """6, 9 and 12 months of orders before the cutoff: a score and a value for everyone."""
    orders, _tickets, _data = planted
    start = pd.Timestamp("2022-01-01")
    cutoff = (start + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()
    history = orders[orders["ordered_at"] < pd.Timestamp(cutoff) + pd.Timedelta(days=1)]
    data = ChurnData.from_frames(history.copy())
    trained = train(data, cutoff, CFG)
    frame = trained.frame(data, cutoff, CFG)
    eligible = set(history.loc[history["amount"] >= 0, "customer_id"])
    assert set(frame["customer_id"]) == eligible
    p = trained.predict(frame)
    orders_12m, revenue_12m = trained.predict_value(frame)
    assert np.all((p >= 0) & (p <= 1)) and np.isfinite(p).all()
    assert np.isfinite(orders_12m).all() and (revenue_12m >= 0).all()
    assert trained.label_horizon_days <= CFG.horizon_days
    assert all(
        c + timedelta(days=trained.label_horizon_days) <= cutoff for c in trained.training_cutoffs
    )


def test_training_plan_shortens_the_label_horizon_only_when_needed():
    cfg = ChurnConfig()
    first = date(2024, 1, 1)
    full = training_plan(date(2026, 4, 1), first, cfg)
    assert full.label_horizon_days == 180 and len(full.cutoffs) == 6
    year = training_plan(date(2025, 1, 1), first, cfg)  # 366 days: shorter spacing suffices
    assert year.label_horizon_days == 180 and len(year.cutoffs) == 3
    half = training_plan(date(2024, 7, 1), first, cfg)  # 182 days: shorter label horizon
    assert 28 <= half.label_horizon_days < 180 and len(half.cutoffs) >= 1
    assert all(
        c + timedelta(days=half.label_horizon_days) <= date(2024, 7, 1) for c in half.cutoffs
    )
    assert training_plan(date(2024, 2, 1), first, cfg).cutoffs == []


def test_lift_and_calibration_table_on_hand_cases():
    y = np.array([1] * 10 + [0] * 90)
    p = np.r_[np.full(10, 0.9), np.linspace(0.0, 0.5, 90)]
    assert lift_top_decile(y, p) == pytest.approx(10.0)
    table = calibration_table(y, p)
    assert table["n"].tolist() == [10] * 10
    assert table.loc[table["decile"] == 10, "observed_rate"].item() == 1.0
    assert table.loc[table["decile"] == 10, "mean_predicted"].item() == pytest.approx(0.9)


def test_drift_reference_is_the_latest_training_cutoff(planted):
    """The drift reference is built on the latest training cutoff: its own rows have PSI 0."""
    from ml.drift import drift_report

    _orders, _tickets, data = planted
    trained = train(data, EVAL, CFG)
    from ml.model import build_frame

    latest = trained.training_cutoffs[-1]
    assert trained.reference_cutoff == latest
    same, _fit = build_frame(data, latest, CFG, trained.label_horizon_days, labelled=True)
    same["churn_probability"] = trained.predict(same)
    report = drift_report(trained.reference, same, 0.2, exclude=())
    assert set(report["column"]) == {*trained.feature_names, "churn_probability"}
    assert report["psi"].max() == pytest.approx(0.0, abs=1e-9)


def test_logistic_inputs_stay_finite_on_edge_values():
    x = np.array(
        [
            [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0],
            [400.0, 400.0, 50.0, -20.0, 1.0, 0.0, 1e6],
            [np.nan, 10.0, 1.0, np.nan, np.nan, np.nan, np.nan],
        ]
    )
    out = glm_transform(x)
    assert out.shape == (3, 7) and np.isfinite(out).all()
    assert out[1, 3] == 0.0  # a negative amount (returns) counts as none


def test_value_model_is_the_label_free_model_that_ranked_revenue_best():
    revenue = np.array([0.0, 0.0, 10.0, 30.0, 50.0, 80.0])
    val = pd.DataFrame(
        {
            "bgnbd_expected_revenue_label": [5.0, 1.0, 2.0, 3.0, 4.0, 0.0],
            "pnbd_expected_revenue_label": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    chosen, table = _value_choice(val, revenue)
    assert chosen == "pnbd" and table["pnbd"]["spearman"] > table["bgnbd"]["spearman"]
    swapped = val.rename(
        columns={
            "bgnbd_expected_revenue_label": "pnbd_expected_revenue_label",
            "pnbd_expected_revenue_label": "bgnbd_expected_revenue_label",
        }
    )
    assert _value_choice(swapped, revenue)[0] == "bgnbd"
    # nothing to rank against (no revenue in the window): BG/NBD, unvalidated
    assert _value_choice(val, np.zeros(6)) == ("bgnbd", {})


def test_booster_stops_early_on_the_later_cutoff_only(planted):
    """The number of trees is chosen on a later labelled cutoff (time-based early stopping):
    a later cutoff whose labels carry no signal stops boosting after a few rounds; without a
    later cutoff every configured round runs."""
    _orders, _tickets, data = planted
    first, _last = data.date_range()
    cutoffs = training_cutoffs(EVAL, first, CFG)
    frames = [
        build_frame(data, c, CFG, CFG.horizon_days, labelled=True, label_free=False)[0]
        for c in cutoffs[:2]
    ]
    names = [*data.feature_names(), *PURCHASE_FEATURES]
    full = _trees(frames[:1], names, CFG)
    assert full.n_iter_ == CFG.model.max_iter
    noise = frames[1].copy()
    noise["churned"] = np.random.default_rng(0).permutation(noise["churned"].to_numpy())
    stopped = _trees(frames[:1], names, CFG, later=noise)
    assert stopped.n_iter_ < CFG.model.max_iter // 2
    again = _trees(frames[:1], names, CFG, later=noise)
    assert again.n_iter_ == stopped.n_iter_


def test_sampling_cap_bounds_training_rows_and_every_customer_is_still_scored(planted):
    """`max_rows_per_cutoff` samples the labelled cutoffs only: the training reads at most that
    many customers per cutoff, the same ones on a second run (same scores), and the scoring
    frame holds every eligible customer."""
    orders, _tickets, data = planted
    cfg = CFG.model_copy(update={"max_rows_per_cutoff": 600})
    trained = train(data, EVAL, cfg)
    assert 0 < trained.n_training_rows <= 600 * len(trained.training_cutoffs)
    frame = trained.frame(data, EVAL, cfg)
    cut = pd.Timestamp(EVAL) + pd.Timedelta(days=1)
    history = orders[(orders["ordered_at"] < cut) & (orders["amount"] >= 0)]
    assert set(frame["customer_id"]) == set(history["customer_id"])
    again = train(data, EVAL, cfg)
    np.testing.assert_array_equal(trained.predict(frame), again.predict(frame))
