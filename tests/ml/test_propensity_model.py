"""Propensity / lead training: the choice is made inside the training window, the back-test
cutoff is never seen, and a tiny population falls back to the baseline instead of failing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ml import propensity as clf
from ml import propensity_features as pf
from ml.behaviour import BehaviourData
from ml.prediction_config import LeadsConfig, PropensityConfig
from tests.ml.behaviour_synth import synth_behaviour

AS_OF = date(2025, 6, 30)


def test_training_reads_only_labels_that_end_before_the_as_of_date():
    data = BehaviourData.from_frames(**synth_behaviour(500, 200, seed=5))
    cfg = PropensityConfig(n_training_cutoffs=4, candidates=[{"max_iter": 30}])
    trained = clf.train(data, clf.PROPENSITY, AS_OF, cfg, seed=1, threads=1)
    horizon = timedelta(days=cfg.horizon_days)
    assert trained.cutoffs[-1] + horizon <= AS_OF
    v = trained.validation
    assert date.fromisoformat(v["cutoff"]) == trained.cutoffs[-1]
    for c in v["training_cutoffs"]:
        assert date.fromisoformat(c) + horizon <= date.fromisoformat(v["cutoff"])
    # several validation cutoffs, the latest ones, each graded with models fitted before it
    assert v["cutoffs"] == [c.isoformat() for c in trained.cutoffs[-len(v["cutoffs"]) :]]
    assert 1 < len(v["cutoffs"]) <= cfg.n_validation_cutoffs
    assert set(v["per_cutoff"]) == set(v["cutoffs"])
    blend = "blend_booster_0_logistic_C0.1"
    assert set(v["metrics"]) == {clf.BASELINE, "booster_0", "logistic_C0.1", blend}
    for name, m in v["metrics"].items():  # the criterion is the mean over the cutoffs
        mean = sum(t[name]["pr_auc"] for t in v["per_cutoff"].values()) / len(v["cutoffs"])
        assert abs(m["pr_auc"] - mean) < 1e-12
    assert v["metrics"][v["chosen"]]["pr_auc"] == max(m["pr_auc"] for m in v["metrics"].values())
    scores = trained.predict(pf.features_at(data, clf.PROPENSITY, AS_OF, cfg.horizon_days))
    assert ((scores >= 0) & (scores <= 1)).all()
    # the back-test grades at a cutoff whose labels the training as of it never read
    result = clf.evaluate(trained, data, AS_OF)
    assert set(result["metrics"]) == {"model", clf.BASELINE}


def test_a_tiny_population_falls_back_to_the_baseline():
    data = BehaviourData.from_frames(**synth_behaviour(40, 10, seed=1))
    for task in (clf.PROPENSITY, clf.LEADS):
        trained = clf.train(data, task, AS_OF, LeadsConfig(), seed=1, threads=1)
        assert trained.chosen == clf.BASELINE and trained.model is None
        scores = trained.predict(pf.features_at(data, task, AS_OF, trained.horizon_days))
        assert len(scores) and ((scores >= 0) & (scores <= 1)).all()


def test_logistic_and_blend_candidates_score_rows_with_missing_values():
    """The logistic inputs take missing "days since" values (flagged), and a blend is the mean
    of its members' probabilities."""
    data = BehaviourData.from_frames(**synth_behaviour(500, 200, seed=5))
    rows = pf.labelled_at(data, clf.PROPENSITY, AS_OF - timedelta(days=60), 30)
    names = pf.feature_names(rows)
    assert rows[names].isna().any().any()
    cfg = PropensityConfig(candidates=[{"max_iter": 30}], logistic_c=[0.5])
    params = clf._candidates(cfg)
    assert set(params) == {"booster_0", "logistic_C0.5", "blend_booster_0_logistic_C0.5"}
    blend = clf._fit_candidate(rows, names, params["blend_booster_0_logistic_C0.5"], seed=1)
    booster = clf._fit_candidate(rows, names, params["booster_0"], seed=1)
    logistic = clf._fit_candidate(rows, names, params["logistic_C0.5"], seed=1)
    p = [m.predict_proba(rows[names])[:, 1] for m in (blend, booster, logistic)]
    assert np.isfinite(p[2]).all() and ((p[2] > 0) & (p[2] < 1)).all()
    np.testing.assert_allclose(p[0], (p[1] + p[2]) / 2)
    assert set(clf._candidates(cfg.model_copy(update={"blend": False}))) == {
        "booster_0",
        "logistic_C0.5",
    }


def test_paired_bootstrap_interval_of_a_difference():
    """Identical scorers differ by exactly 0; a scorer that knows the labels beats noise with
    an interval above 0; the interval holds the point difference."""
    from ml.metrics import paired_bootstrap

    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.07).astype(int)
    noise = rng.random(2000)
    same = paired_bootstrap(y, noise, noise, n_boot=50)
    assert same["pr_auc"] == same["pr_auc_low"] == same["pr_auc_high"] == 0.0
    good = paired_bootstrap(y, y + 0.5 * noise, noise, n_boot=50)
    assert 0 < good["pr_auc_low"] <= good["pr_auc"] <= good["pr_auc_high"]
    assert 0 < good["roc_auc_low"] <= good["roc_auc"] <= good["roc_auc_high"]


def test_bootstrap_metrics_from_one_sort_equal_scikit_learn_on_the_resample():
    """The bootstrap sorts each scorer once and weighs rows by their draw count: its PR AUC and
    ROC AUC must be scikit-learn's on the resampled rows, ties included."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from ml.metrics import _Ranked

    rng = np.random.default_rng(3)
    y = (rng.random(3000) < 0.1).astype(int)
    tied = np.round(0.3 * y + rng.random(3000), 2)
    for p in (tied, rng.random(3000)):
        ranked = _Ranked(y, p)
        for _ in range(10):
            idx = rng.integers(0, len(y), len(y))
            w = np.bincount(idx, minlength=len(y)).astype("float64")
            assert abs(ranked.pr_auc(w) - average_precision_score(y[idx], p[idx])) < 1e-12
            assert abs(ranked.roc_auc(w) - roc_auc_score(y[idx], p[idx])) < 1e-12


def test_back_test_and_final_training_share_their_common_validation_cutoffs():
    """Each validation cutoff is graded with models fitted on the same window of earlier
    cutoffs whichever training asks: the back-test (one spacing earlier) and the final
    training share two of three validation cutoffs, fitted once and graded identically."""
    data = BehaviourData.from_frames(**synth_behaviour(500, 200, seed=5))
    cfg = PropensityConfig(n_training_cutoffs=6, candidates=[{"max_iter": 30}])
    spacing = timedelta(days=cfg.cutoff_spacing_days)
    earlier = clf.train(data, clf.PROPENSITY, AS_OF - spacing, cfg, seed=1, threads=1)
    later = clf.train(data, clf.PROPENSITY, AS_OF, cfg, seed=1, threads=1)
    fitted = [k for k in data.cache if k[0] == "validation"]
    shared = set(earlier.validation["per_cutoff"]) & set(later.validation["per_cutoff"])
    assert len(shared) == cfg.n_validation_cutoffs - 1
    assert len(fitted) == cfg.n_validation_cutoffs + 1
    for cutoff in shared:
        assert earlier.validation["per_cutoff"][cutoff] == later.validation["per_cutoff"][cutoff]
    window = cfg.n_training_cutoffs - cfg.n_validation_cutoffs
    assert len(later.validation["training_cutoffs"]) == window


def test_a_rerun_on_the_same_data_makes_the_same_choice_and_the_back_test_is_capped():
    """The same data read again in another row order: the same stratified samples, the same
    validation table and choice; the back-test grades a hash sample of `max_rows` persons."""
    frames = synth_behaviour(500, 200, seed=5)
    shuffled = {k: f.sample(frac=1.0, random_state=2) for k, f in frames.items()}
    cfg = PropensityConfig(
        n_training_cutoffs=4, candidates=[{"max_iter": 30}], max_rows_per_cutoff=150
    )
    runs = []
    for f in (frames, shuffled):
        data = BehaviourData.from_frames(**f)
        runs.append(clf.train(data, clf.PROPENSITY, AS_OF, cfg, seed=1, threads=1))
    # the choice and its criterion exactly, every graded PR AUC / ROC AUC exactly (they read
    # the order of the scores only); the other figures to 1e-12: a feature summed over rows
    # read in another order differs in its last bits (by how many depends on the CPU's
    # vector width), and so do the Brier score and the mean prediction built on it
    a, b = (r.validation for r in runs)
    assert (a["chosen"], a["metrics"][a["chosen"]]["pr_auc"]) == (
        b["chosen"],
        b["metrics"][b["chosen"]]["pr_auc"],
    )
    (text_a, numbers_a), (text_b, numbers_b) = _flat(a), _flat(b)
    assert text_a == text_b
    assert numbers_a == pytest.approx(numbers_b, rel=1e-12, abs=1e-15, nan_ok=True)
    for cutoff, table in a["per_cutoff"].items():
        for name, m in table.items():
            other = b["per_cutoff"][cutoff][name]
            assert (m["pr_auc"], m["roc_auc"]) == (other["pr_auc"], other["roc_auc"])
    assert runs[0].n_training_rows == runs[1].n_training_rows == 4 * 150
    everyone = clf.evaluate(runs[1], data, AS_OF)
    capped = clf.evaluate(runs[1], data, AS_OF, max_rows=120, seed=1)
    assert everyone["metrics"]["model"]["n"] > 120 == capped["metrics"]["model"]["n"]
    assert capped["graded"] != everyone["graded"]


def _flat(tree) -> tuple[dict, dict]:
    """The leaves of a nested validation record by path: (texts, numbers as floats)."""
    leaves: dict = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.items():
                walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{path}[{i}]")
        else:
            leaves[path] = node

    walk(tree, "")
    numbers = {k: float(v) for k, v in leaves.items() if isinstance(v, (int, float))}
    return {k: str(v) for k, v in leaves.items() if k not in numbers}, numbers
