"""Scoring, risk bands, and the warehouse side of the churn pipeline (train, score, write).

Used by the Dagster assets in `orchestration/ml/`; the CLI uses the same feature and model
code on a plain orders file (`ml/cli.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ml.artifact import build_card, model_version, save_artifact
from ml.config import ChurnConfig, RiskBands
from ml.drift import drift_report
from ml.features import ChurnData
from ml.inputs import CHURN_INPUTS, scratch_inputs
from ml.model import (
    Backtest,
    InsufficientHistoryError,
    TrainedChurnModel,
    evaluate,
    feature_importance,
    label_observable,
    train,
)

SCORES_TABLE = "ml.churn_scores"
FEATURES_TABLE = "ml.churn_features"


def risk_band(p: np.ndarray, bands: RiskBands) -> np.ndarray:
    return np.where(p >= bands.high, "high", np.where(p >= bands.medium, "medium", "low"))


def score_frame(
    trained: TrainedChurnModel,
    frame: pd.DataFrame,
    cfg: ChurnConfig,
    version: str,
    scored_at: datetime | None = None,
) -> pd.DataFrame:
    """`person_id, churn_probability, churn_risk_band, expected_orders, expected_revenue,
    value_horizon_days, model_version, scored_at` from a `TrainedChurnModel.frame`."""
    p = trained.predict(frame)
    orders, revenue = trained.predict_value(frame)
    return pd.DataFrame(
        {
            "person_id": frame["customer_id"].astype(str).to_numpy(),
            "churn_probability": p,
            "churn_risk_band": risk_band(p, cfg.risk_bands),
            "expected_orders": orders,
            "expected_revenue": revenue,
            "value_horizon_days": cfg.purchase_model.value_horizon_days,
            "model_version": version,
            "scored_at": pd.Timestamp(scored_at or datetime.now(UTC)).tz_convert("UTC"),
        }
    )


# ---------------------------------------------------------------------- warehouse side
@contextmanager
def churn_inputs(con: duckdb.DuckDBPyConnection) -> Iterator[ChurnData]:
    """The inputs the churn model reads (`ml.inputs.sources`: orders, tickets, e-mail, web
    sessions and abandoned carts), standardised and written once into a scratch DuckDB file
    (`ml.inputs.scratch_inputs`, deleted on exit): on disk under DuckDB's memory limit rather
    than copied into the process, which peaked at 10 GiB for 1.4M customers.
    `marts.engagement` holds windows relative to its build date only, so it cannot be
    reconstructed as of past training cutoffs and is not used as a model input (see
    docs/predictions.md).
    """
    with scratch_inputs(con, CHURN_INPUTS) as data:
        yield data.base


@dataclass
class TrainingRun:
    version: str
    path: Path
    card: dict
    trained: TrainedChurnModel
    backtest: Backtest


def backtest(data: ChurnData, cutoff: date, cfg: ChurnConfig) -> Backtest:
    """Train as of `cutoff` and evaluate against the horizon after it (value over the churn
    horizon: the data after the cutoff covers no more), as far as the history allows."""
    result = Backtest()
    try:
        if not label_observable(data, cutoff, cfg.horizon_days):
            raise InsufficientHistoryError("evaluation window not covered by the data")
        result.model = train(data, cutoff, cfg)
        result.evaluation, frame = evaluate(
            result.model, data, cutoff, cfg, value_days=cfg.horizon_days
        )
        result.importances = feature_importance(result.model, frame, cfg)
    except InsufficientHistoryError as exc:
        result.note = f"no backtest at {cutoff}: {exc}"
    return result


def train_and_save(data: ChurnData, cfg: ChurnConfig, models_dir: Path) -> TrainingRun:
    """Backtest as of (scoring cutoff - horizon), then train as of the scoring cutoff and save.

    The scoring cutoff is the last purchase date in the data. The backtest model is trained as
    of the evaluation cutoff E and evaluated at E against the purchases of the horizon after
    it; the saved model is fitted with the same procedure as of the scoring cutoff, so its
    latest training labels are those of E.
    """
    _first, scoring_cutoff = data.date_range()
    if scoring_cutoff is None:
        raise InsufficientHistoryError("no purchases with a known person in the orders")
    tested = backtest(data, scoring_cutoff - timedelta(days=cfg.horizon_days), cfg)
    trained = train(data, scoring_cutoff, cfg)
    data_hash = data.data_hash()
    version = model_version(scoring_cutoff, data_hash, cfg)
    card = build_card(version, trained, tested, data_hash, cfg)
    path = save_artifact(models_dir, version, trained, card)
    return TrainingRun(version, path, card, trained, tested)


def score_and_write(
    data: ChurnData,
    trained: TrainedChurnModel,
    version: str,
    cfg: ChurnConfig,
    warehouse: duckdb.DuckDBPyConnection,
    scoring_cutoff: date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Score every person with a purchase on or before the cutoff; replace the ml tables.

    Returns `(scores, features, drift)` where drift is the PSI per feature and for the score
    against the model's training distribution.
    """
    if scoring_cutoff is None:
        _first, scoring_cutoff = data.date_range()
    features = trained.frame(data, scoring_cutoff, cfg)
    scores = score_frame(trained, features, cfg, version)
    out_features = features[["customer_id", "cutoff", *trained.feature_names]].rename(
        columns={"customer_id": "person_id"}
    )
    out_features.insert(2, "model_version", version)
    warehouse.execute("CREATE SCHEMA IF NOT EXISTS ml")
    warehouse.register("_churn_scores", scores)
    warehouse.register("_churn_features", out_features)
    try:
        warehouse.execute(f"CREATE OR REPLACE TABLE {SCORES_TABLE} AS SELECT * FROM _churn_scores")
        warehouse.execute(
            f"CREATE OR REPLACE TABLE {FEATURES_TABLE} AS SELECT * FROM _churn_features"
        )
    finally:
        warehouse.unregister("_churn_scores")
        warehouse.unregister("_churn_features")
    current = features.assign(churn_probability=scores["churn_probability"].to_numpy())
    drift = drift_report(
        trained.reference, current, cfg.drift.psi_threshold, exclude=cfg.drift.exclude
    )
    return scores, out_features, drift


__all__ = [
    "FEATURES_TABLE",
    "SCORES_TABLE",
    "TrainingRun",
    "churn_inputs",
    "risk_band",
    "score_and_write",
    "score_frame",
    "train_and_save",
]
