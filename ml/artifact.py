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
    digest = hashlib.sha256(
        json.dumps(
            {"data": data_hash, "config": cfg.model_dump(mode="json"), "sk": sklearn.__version__},
            sort_keys=True,
        ).encode()
    ).hexdigest()[:10]
    return f"churn-{as_of:%Y%m%d}-{digest}"


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def build_card(
    *,
    version: str,
    trained: TrainedChurnModel,
    backtest: Evaluation | None,
    backtest_training_cutoffs: list,
    importances: pd.DataFrame | None,
    data_hash: str,
    cfg: ChurnConfig,
) -> dict:
    """The JSON model card."""
    return {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sklearn_version": sklearn.__version__,
        "as_of": trained.as_of.isoformat(),
        "horizon_days": trained.horizon_days,
        "label": f"no purchase within {trained.horizon_days} days after the cutoff",
        "training_cutoffs": [c.isoformat() for c in trained.training_cutoffs],
        "calibration_cutoff": (
            trained.calibration_cutoff.isoformat() if trained.calibration_cutoff else None
        ),
        "calibration_method": trained.calibration_method,
        "training_rows": trained.n_training_rows,
        "training_churn_rate": trained.training_churn_rate,
        "features": trained.feature_names,
        "drift_reference_cutoff": (
            trained.reference_cutoff.isoformat() if trained.reference_cutoff else None
        ),
        "data_hash": data_hash,
        "config": cfg.model_dump(mode="json"),
        "backtest": None
        if backtest is None
        else {
            "evaluation_cutoff": backtest.cutoff.isoformat(),
            "training_cutoffs": [c.isoformat() for c in backtest_training_cutoffs],
            "metrics": backtest.metrics,
            "calibration": {k: _records(v) for k, v in backtest.calibration.items()},
        },
        "feature_importance": None if importances is None else _records(importances),
        "per_person_reasons": None,
    }


def save_artifact(models_dir: Path, version: str, trained: TrainedChurnModel, card: dict) -> Path:
    """Write model and card into a fresh version directory and point LATEST at it."""
    root = Path(models_dir) / "churn"
    target = root / version
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(trained, target / MODEL_FILE)
    (target / CARD_FILE).write_text(json.dumps(card, indent=2, default=str) + "\n")
    tmp = root / "LATEST.tmp"
    tmp.write_text(version + "\n")
    os.replace(tmp, root / "LATEST")
    return target


def load_artifact(models_dir: Path, version: str | None = None) -> tuple[TrainedChurnModel, dict]:
    root = Path(models_dir) / "churn"
    if version is None:
        latest = root / "LATEST"
        if not latest.exists():
            raise FileNotFoundError(f"{latest}: no churn model has been trained yet")
        version = latest.read_text().strip()
    target = root / version
    trained = joblib.load(target / MODEL_FILE)
    card = json.loads((target / CARD_FILE).read_text())
    return trained, card
