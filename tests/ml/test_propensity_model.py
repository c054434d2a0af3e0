"""Propensity / lead training: the choice is made inside the training window, the back-test
cutoff is never seen, and a tiny population falls back to the baseline instead of failing."""

from __future__ import annotations

from datetime import date, timedelta

from ml import propensity as clf
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
    assert set(v["metrics"]) == {clf.BASELINE, "booster_0"}
    scores = trained.predict(clf.features_at(data, clf.PROPENSITY, AS_OF))
    assert ((scores >= 0) & (scores <= 1)).all()
    # the back-test grades at a cutoff whose labels the training as of it never read
    result = clf.evaluate(trained, data, AS_OF)
    assert set(result["metrics"]) == {"model", clf.BASELINE}


def test_a_tiny_population_falls_back_to_the_baseline():
    data = BehaviourData.from_frames(**synth_behaviour(40, 10, seed=1))
    for task in (clf.PROPENSITY, clf.LEADS):
        trained = clf.train(data, task, AS_OF, LeadsConfig(), seed=1, threads=1)
        assert trained.chosen == clf.BASELINE and trained.model is None
        scores = trained.predict(clf.features_at(data, task, AS_OF))
        assert len(scores) and ((scores >= 0) & (scores <= 1)).all()
