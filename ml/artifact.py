"""Versioned churn model artifacts: `<models_dir>/churn/<version>/{model.joblib,model_card.json}`.

`<models_dir>/churn/LATEST` holds the version written last. The version is derived from the
as-of date, the data fingerprint, the configuration and the scikit-learn version, so the same
inputs give the same version.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import joblib
import pandas as pd
import sklearn

from ml.config import ChurnConfig
from ml.model import Evaluation, TrainedChurnModel

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"


def model_version(as_of, data_hash: str, cfg: ChurnConfig) -> str:
    return versioned("churn", as_of, data_hash, cfg.model_dump(mode="json"))


def versioned(name: str, as_of, data_hash: str, config: dict) -> str:
    """`<name>-<as-of>-<hash of data, config, sklearn version>`: same inputs, same version."""
    digest = hashlib.sha256(
        json.dumps(
            {"data": data_hash, "config": config, "sk": sklearn.__version__}, sort_keys=True
        ).encode()
    ).hexdigest()[:10]
    return f"{name}-{as_of:%Y%m%d}-{digest}"


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def _evaluation_record(evaluation: Evaluation | None, model: TrainedChurnModel | None):
    if evaluation is None or model is None:
        return None
    return {
        "evaluation_cutoff": evaluation.cutoff.isoformat(),
        "training_cutoffs": [c.isoformat() for c in model.training_cutoffs],
        "label_horizon_days": model.label_horizon_days,
        "chosen": model.chosen,
        "metrics": evaluation.metrics,
        "calibration": {k: _records(v) for k, v in evaluation.calibration.items()},
        "value_metrics": evaluation.value_metrics,
    }


def build_card(
    *,
    version: str,
    trained: TrainedChurnModel,
    backtest: Evaluation | None,
    backtest_model: TrainedChurnModel | None,
    importances: pd.DataFrame | None,
    data_hash: str,
    cfg: ChurnConfig,
) -> dict:
    """The JSON model card: data window, plan, candidates and their validation, the chosen
    scorer, purchase-model parameters, back-test metrics next to the baselines."""
    plan = trained.plan
    return {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sklearn_version": sklearn.__version__,
        "as_of": trained.as_of.isoformat(),
        "data_window": {
            "first_purchase": trained.first_purchase.isoformat(),
            "as_of": trained.as_of.isoformat(),
        },
        "horizon_days": trained.horizon_days,
        "label": f"no purchase within {trained.horizon_days} days after the cutoff",
        "label_horizon_days": trained.label_horizon_days,
        "training_plan": plan.describe(trained.horizon_days),
        "training_cutoffs": [c.isoformat() for c in plan.cutoffs],
        "chosen": trained.chosen,
        "label_free_model": trained.label_free,
        "validation": trained.validation,
        "calibration_cutoff": (
            trained.calibration_cutoff.isoformat() if trained.calibration_cutoff else None
        ),
        "calibration_method": trained.calibration_method if trained.model else None,
        "extrapolation": (
            f"gradient boosting predicts {trained.label_horizon_days} days; "
            f"{trained.label_free} supplies the ratio to {trained.horizon_days} days"
            if trained.chosen == "model" and trained.label_horizon_days < trained.horizon_days
            else None
        ),
        "training_rows": trained.n_training_rows,
        "training_churn_rate": trained.training_churn_rate,
        "features": trained.feature_names if trained.model else [],
        "purchase_models": trained.purchase_fit.card(),
        "value": {
            "horizon_days": cfg.purchase_model.value_horizon_days,
            "model": f"{trained.label_free} expected orders x Gamma-Gamma expected value",
        },
        "drift_reference_cutoff": (
            trained.reference_cutoff.isoformat() if trained.reference_cutoff else None
        ),
        "data_hash": data_hash,
        "config": cfg.model_dump(mode="json"),
        "backtest": _evaluation_record(backtest, backtest_model),
        "feature_importance": None if importances is None else _records(importances),
        "per_person_reasons": None,
    }


def save_artifact(models_dir: Path, version: str, trained: TrainedChurnModel, card: dict) -> Path:
    return save_named(models_dir, "churn", version, trained, card)


def load_artifact(models_dir: Path, version: str | None = None) -> tuple[TrainedChurnModel, dict]:
    return load_named(models_dir, "churn", version)


def save_named(models_dir: Path, name: str, version: str, model: object, card: dict) -> Path:
    """Write model and card into `<models_dir>/<name>/<version>/` and point LATEST at it."""
    root = Path(models_dir) / name
    target = root / version
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, target / MODEL_FILE)
    (target / CARD_FILE).write_text(json.dumps(card, indent=2, default=str) + "\n")
    tmp = root / "LATEST.tmp"
    tmp.write_text(version + "\n")
    os.replace(tmp, root / "LATEST")
    return target


def load_named(models_dir: Path, name: str, version: str | None = None) -> tuple[object, dict]:
    root = Path(models_dir) / name
    if version is None:
        latest = root / "LATEST"
        if not latest.exists():
            raise FileNotFoundError(f"{latest}: no {name} model has been trained yet")
        version = latest.read_text().strip()
    target = root / version
    return joblib.load(target / MODEL_FILE), json.loads((target / CARD_FILE).read_text())
