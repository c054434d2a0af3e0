"""`config/predictions.yaml` is validated: the shipped file loads, errors name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdp.config import ConfigError
from ml.prediction_config import load_predictions_config

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "predictions.yaml"


def test_the_shipped_file_is_valid():
    cfg = load_predictions_config(SHIPPED)
    assert cfg.propensity.horizon_days == 30 and cfg.leads.horizon_days == 90
    assert cfg.recommendations.sync_top <= cfg.recommendations.top_n
    assert {c.kind for c in cfg.recommendations.candidates} <= {
        "als",
        "item_cooccurrence",
        "item_cosine",
        "bm25",
        "category",
    }
    assert all(0 < a <= 1 for a in cfg.recommendations.blend_weights)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("propensity: {horizon_days: 3}", "propensity.horizon_days"),
        ("leads: {candidates: [{max_iter: 5}]}", "leads.candidates.0.max_iter"),
        ("propensity: {logistic_c: [0.1, 0]}", "propensity.logistic_c.1"),
        ("propensity: {n_validation_cutoffs: 0}", "propensity.n_validation_cutoffs"),
        ("recommendations: {candidates: [{kind: svd}]}", "recommendations.candidates.0.kind"),
        ("recommendations: {top_n: 2, sync_top: 3}", "recommendations"),
        ("recommendations: {blend_weights: [0.5, 1.5]}", "recommendations.blend_weights.1"),
        ("recommendations: {blend_weights: [0]}", "recommendations.blend_weights.0"),
        ("recommendation: {top_n: 5}", "recommendation"),  # unknown key (typo)
        ("leads: {retrain_after_days: weekly}", "leads.retrain_after_days"),
        ("recommendations: {retrain_after_days: -1}", "recommendations.retrain_after_days"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path, text, field):
    path = tmp_path / "predictions.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_predictions_config(path)
    assert str(path) in str(err.value) and field in str(err.value)


def test_missing_explicit_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_predictions_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("propensity: [")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_predictions_config(bad)
