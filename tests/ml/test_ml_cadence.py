"""The retraining cadence (ml/cadence.py): the decision on artefacts written by `save_named`,
the validation of `retrain_after_days`, and the three prediction model assets reusing their
newest artefact without training."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from cdp.config import ConfigError
from ml.artifact import MODEL_FILE, save_named
from ml.cadence import decide
from ml.config import load_churn_config
from ml.prediction_config import PredictionsConfig
from orchestration.ml.prediction_assets import lead_model, propensity_model, recommendation_model
from orchestration.shared.resources import WarehouseResource

TRAINED = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _save(models_dir, name: str, section, trained_at: datetime = TRAINED, **card) -> str:
    version = f"{name}-20260301-abc"
    card = {
        "version": version,
        "model": name,
        "created_at": trained_at.isoformat(),
        "config": section.model_dump(mode="json"),
        **card,
    }
    save_named(models_dir, name, version, {"weights": [1, 2]}, card)
    return version


def test_decision_follows_age_config_and_request(tmp_path):
    section = PredictionsConfig().propensity  # retrain_after_days 7
    first = decide(tmp_path, "propensity", section, now=TRAINED)
    assert first.train and first.reason == "no propensity artefact yet"
    version = _save(tmp_path, "propensity", section)

    reuse = decide(tmp_path, "propensity", section, now=TRAINED + timedelta(days=6, hours=23))
    assert not reuse.train and reuse.saved.version == version
    assert reuse.saved.path == tmp_path / "propensity" / version
    due = decide(tmp_path, "propensity", section, now=TRAINED + timedelta(days=7))
    assert due.train and "7 days ago (cadence 7 days)" in due.reason
    asked = decide(tmp_path, "propensity", section, full_refresh=True, now=TRAINED)
    assert asked.train and "full refresh" in asked.reason

    changed = section.model_copy(update={"horizon_days": 60})
    assert decide(tmp_path, "propensity", changed, now=TRAINED).train
    longer = section.model_copy(update={"retrain_after_days": 30})
    assert not decide(tmp_path, "propensity", longer, now=TRAINED + timedelta(days=20)).train
    off = section.model_copy(update={"retrain_after_days": 0})
    assert decide(tmp_path, "propensity", off, now=TRAINED).train

    (tmp_path / "propensity" / version / MODEL_FILE).unlink()  # a broken artefact is retrained
    broken = decide(tmp_path, "propensity", section, now=TRAINED)
    assert broken.train and "unusable" in broken.reason


@pytest.mark.parametrize("value", ["-1", "weekly", "4000"])
def test_churn_cadence_errors_name_the_file_and_the_field(tmp_path, value):
    path = tmp_path / "churn.yaml"
    path.write_text(f"retrain_after_days: {value}\n")
    with pytest.raises(ConfigError) as err:
        load_churn_config(path)
    assert str(path) in str(err.value) and "retrain_after_days" in str(err.value)


def _refuse_training(*_args, **_kwargs):
    raise AssertionError("trained although the artefact is within the cadence")


NO_BACKTEST = {"chosen": "model", "validation": {}, "backtest": None, "backtest_note": "none"}
RECOMMENDER_METRICS = {"model": {"hit_rate_at_5": 0.2, "recall_at_10": 0.3}}


@pytest.mark.parametrize(
    ("asset", "name", "card"),
    [
        (propensity_model, "propensity", {**NO_BACKTEST, "training_rows": 9, "features": ["a"]}),
        (lead_model, "leads", {**NO_BACKTEST, "training_rows": 9, "features": ["b"]}),
        (
            recommendation_model,
            "recommendations",
            {
                "chosen": "als",
                "validation": {},
                "interactions": 5,
                "backtest": {"cutoff": "2026-01-01", "metrics": RECOMMENDER_METRICS},
            },
        ),
    ],
)
def test_prediction_models_reuse_their_newest_artefact(tmp_path, monkeypatch, asset, name, card):
    monkeypatch.setenv("CDP_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CDP_CONFIG_DIR", str(tmp_path / "config"))  # no file: the defaults
    monkeypatch.setattr("ml.prediction_scoring.train_classifier", _refuse_training)
    monkeypatch.setattr("ml.prediction_scoring.train_recommender", _refuse_training)
    section = getattr(PredictionsConfig(), name)
    version = _save(tmp_path / "models", name, section, datetime.now(UTC), **card)
    result = dg.materialize(  # no warehouse: nothing is read when the artefact is reused
        [asset], resources={"warehouse": WarehouseResource(path=str(tmp_path / "absent.duckdb"))}
    )
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["reused"].value is True and meta["model_version"].value == version
    assert (
        meta["retrain_after_days"].value == 7 and "config unchanged" in meta["reuse_reason"].value
    )
    assert meta["chosen"].value == card["chosen"]
