"""Churn training, baselines and the time-based backtest on a planted signal."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ml.config import ChurnConfig
from ml.features import ChurnData
from ml.model import (
    MODEL,
    RECENCY,
    RFM,
    InsufficientHistoryError,
    calibration_table,
    evaluate,
    lift_top_decile,
    train,
    training_cutoffs,
)
from tests.ml.churn_synth import synth_orders

EVAL = date(2025, 6, 30)
CFG = ChurnConfig(max_rows_per_cutoff=5000, model={"max_iter": 80, "min_samples_leaf": 50})


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
    ev = evaluate(trained, data, EVAL)
    m, r, rfm = ev.metrics[MODEL], ev.metrics[RECENCY], ev.metrics[RFM]
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
    frame = other.features_at(EVAL)
    np.testing.assert_array_equal(a.predict(frame), b.predict(frame))


def test_same_seed_same_scores(planted):
    _orders, _tickets, data = planted
    frame = data.features_at(EVAL)
    p1 = train(data, EVAL, CFG).predict(frame)
    p2 = train(data, EVAL, CFG).predict(frame)
    np.testing.assert_array_equal(p1, p2)


def test_single_training_cutoff_uses_cross_fitted_calibration(planted):
    _orders, _tickets, data = planted
    cfg = CFG.model_copy(update={"n_training_cutoffs": 1})
    trained = train(data, EVAL, cfg)
    assert trained.training_cutoffs == [EVAL - timedelta(days=180)]
    assert trained.calibration_cutoff is None
    p = trained.predict(data.features_at(EVAL))
    assert np.all((p >= 0) & (p <= 1))


def test_too_little_history_is_a_clear_error(planted):
    orders, _tickets, _data = planted
    young = ChurnData.from_frames(orders[orders["ordered_at"] < "2022-09-01"].copy())
    with pytest.raises(InsufficientHistoryError, match="too little history"):
        train(young, date(2022, 8, 31), CFG)


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
    latest = trained.training_cutoffs[-1]
    assert trained.reference_cutoff == latest
    same = data.features_at(latest, max_rows=CFG.max_rows_per_cutoff, seed=CFG.seed)
    same["churn_probability"] = trained.predict(same)
    report = drift_report(trained.reference, same, 0.2, exclude=())
    assert set(report["column"]) == {*trained.feature_names, "churn_probability"}
    assert report["psi"].max() == pytest.approx(0.0, abs=1e-9)
