"""Training, baselines, time-based backtest and metrics for the churn model.

Training as of a date `A` uses only data before `A + 1 day`: rows come from training cutoffs
`A - horizon - k * spacing` (k = 0..n-1), so every training label window ends on or before `A`.
The gradient-boosting model is fitted on all training cutoffs but the latest, and its
probabilities are calibrated on the latest one (a hold-out later in time). The evaluation of a
model trained as of `A` is done at cutoff `A` against the purchases in the following horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import permutation_importance
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ml.config import ChurnConfig
from ml.drift import build_reference
from ml.features import RFM_FEATURES, ChurnData

MODEL = "model"
RECENCY = "recency_baseline"
RFM = "rfm_logistic"


class InsufficientHistoryError(ValueError):
    """Not enough order history before the as-of date to build a single labelled cutoff."""


def training_cutoffs(as_of: date, first_purchase: date | None, cfg: ChurnConfig) -> list[date]:
    """Cutoffs `as_of - horizon - k * spacing`, oldest first, each with enough history."""
    if first_purchase is None:
        return []
    cutoffs = []
    for k in range(cfg.n_training_cutoffs):
        c = as_of - timedelta(days=cfg.horizon_days + k * cfg.cutoff_spacing_days)
        if (c - first_purchase).days < cfg.min_history_days:
            break
        cutoffs.append(c)
    return sorted(cutoffs)


def _rfm_transform(x: np.ndarray) -> np.ndarray:
    """log1p of recency, frequency and (non-negative) monetary value."""
    return np.log1p(np.clip(np.asarray(x, dtype="float64"), 0, None))


@dataclass
class TrainedChurnModel:
    """A fitted churn model with its baselines and the facts needed to reproduce and audit it."""

    as_of: date
    horizon_days: int
    feature_names: list[str]
    model: CalibratedClassifierCV
    recency_baseline: IsotonicRegression
    rfm_baseline: Pipeline
    training_cutoffs: list[date]
    calibration_cutoff: date | None
    calibration_method: str
    n_training_rows: int
    training_churn_rate: float
    reference: dict = field(default_factory=dict)
    reference_cutoff: date | None = None

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(features[self.feature_names])[:, 1]

    def predict_all(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        """Probabilities of the model and of both baselines."""
        return {
            MODEL: self.predict(features),
            RECENCY: self.recency_baseline.predict(features["recency_days"].to_numpy()),
            RFM: self.rfm_baseline.predict_proba(features[list(RFM_FEATURES)])[:, 1],
        }


def _check_labels(y: np.ndarray, what: str) -> None:
    if len(np.unique(y)) < 2:
        raise InsufficientHistoryError(
            f"{what}: every row has the same churn label ({int(y[0]) if len(y) else 'no rows'}); "
            "need both churners and returning customers to train"
        )


def train(data: ChurnData, as_of: date, cfg: ChurnConfig) -> TrainedChurnModel:
    """Fit model and baselines on labelled cutoffs strictly inside the history up to `as_of`."""
    first, _last = data.date_range()
    cutoffs = training_cutoffs(as_of, first, cfg)
    if not cutoffs:
        need = cfg.horizon_days + cfg.min_history_days
        have = (as_of - first).days if first else 0
        raise InsufficientHistoryError(
            f"too little history to train: a training cutoff needs {cfg.min_history_days} days "
            f"of orders before it and {cfg.horizon_days} days after it, all before {as_of} "
            f"(>= {need} days in total); the data has {max(have, 0)} days of purchases "
            f"before {as_of}"
        )
    frames = [
        data.features_at(
            c,
            horizon_days=cfg.horizon_days,
            max_rows=cfg.max_rows_per_cutoff,
            seed=cfg.seed,
        )
        for c in cutoffs
    ]
    names = data.feature_names()
    rows = pd.concat(frames, ignore_index=True)
    y_all = rows["churned"].to_numpy()
    _check_labels(y_all, f"training cutoffs {[str(c) for c in cutoffs]}")

    params = cfg.model.model_dump()
    hgb = HistGradientBoostingClassifier(**params, early_stopping=False, random_state=cfg.seed)
    if len(frames) >= 2:
        base = pd.concat(frames[:-1], ignore_index=True)
        calib = frames[-1]
        _check_labels(base["churned"].to_numpy(), "training cutoffs before the latest")
        _check_labels(calib["churned"].to_numpy(), f"calibration cutoff {cutoffs[-1]}")
        hgb.fit(base[names], base["churned"].to_numpy())
        model = CalibratedClassifierCV(FrozenEstimator(hgb), method=cfg.calibration)
        model.fit(calib[names], calib["churned"].to_numpy())
        calibration_cutoff: date | None = cutoffs[-1]
    else:
        # One cutoff only: cross-fitted calibration across customers of that same cutoff
        # (no split across time is possible, and none crosses time).
        cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=cfg.seed)
        model = CalibratedClassifierCV(hgb, method=cfg.calibration, cv=cv)
        model.fit(rows[names], y_all)
        calibration_cutoff = None

    recency = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    recency.fit(rows["recency_days"].to_numpy(), y_all)
    rfm = make_pipeline(
        FunctionTransformer(_rfm_transform),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    rfm.fit(rows[list(RFM_FEATURES)], y_all)

    trained = TrainedChurnModel(
        as_of=as_of,
        horizon_days=cfg.horizon_days,
        feature_names=names,
        model=model,
        recency_baseline=recency,
        rfm_baseline=rfm,
        training_cutoffs=cutoffs,
        calibration_cutoff=calibration_cutoff,
        calibration_method=cfg.calibration,
        n_training_rows=len(rows),
        training_churn_rate=float(y_all.mean()),
    )
    # Drift reference: the latest training cutoff only (the calibration hold-out, or the single
    # cutoff), i.e. the population closest in time to the one that will be scored. Pooling all
    # training cutoffs would compare today's customers with customers of up to
    # horizon + (n - 1) * spacing days ago and report the ageing of the base as drift.
    latest = frames[-1]
    reference = build_reference(latest, names, cfg.drift.n_bins)
    scores = pd.DataFrame({"churn_probability": trained.predict(latest)})
    reference.update(build_reference(scores, ["churn_probability"], cfg.drift.n_bins))
    trained.reference = reference
    trained.reference_cutoff = cutoffs[-1]
    return trained


# ---------------------------------------------------------------------- metrics
def lift_top_decile(y: np.ndarray, p: np.ndarray) -> float:
    """Churn rate among the 10 % highest scores divided by the overall churn rate."""
    y = np.asarray(y, dtype="float64")
    base = y.mean()
    if base == 0:
        return float("nan")
    k = max(1, math.ceil(len(y) / 10))
    top = np.argsort(-np.asarray(p), kind="stable")[:k]
    return float(y[top].mean() / base)


def calibration_table(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Deciles of the predicted probability: count, mean predicted, observed churn rate."""
    order = np.argsort(np.asarray(p), kind="stable")
    bins = np.empty(len(p), dtype="int64")
    bins[order] = np.arange(len(p)) * n_bins // max(len(p), 1)
    frame = pd.DataFrame({"decile": bins + 1, "p": p, "y": y})
    out = frame.groupby("decile").agg(
        n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean")
    )
    return out.reset_index()


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    y = np.asarray(y)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "lift_top_decile": lift_top_decile(y, p),
        "churn_rate": float(np.mean(y)),
        "mean_predicted": float(np.mean(p)),
        "n": len(y),
    }


@dataclass
class Evaluation:
    cutoff: date
    metrics: dict[str, dict[str, float]]
    calibration: dict[str, pd.DataFrame]
    scores: pd.DataFrame  # customer_id, churned, one column per scorer


def evaluate(trained: TrainedChurnModel, data: ChurnData, cutoff: date) -> Evaluation:
    """Score every customer eligible at `cutoff` and compare with the observed outcome."""
    frame = data.features_at(cutoff, horizon_days=trained.horizon_days)
    return evaluate_frame(trained, frame, cutoff)


def evaluate_frame(trained: TrainedChurnModel, frame: pd.DataFrame, cutoff: date) -> Evaluation:
    y = frame["churned"].to_numpy()
    preds = trained.predict_all(frame)
    return Evaluation(
        cutoff=cutoff,
        metrics={name: metrics(y, p) for name, p in preds.items()},
        calibration={name: calibration_table(y, p) for name, p in preds.items()},
        scores=pd.DataFrame({"customer_id": frame["customer_id"], "churned": y, **preds}),
    )


def label_observable(data: ChurnData, cutoff: date, horizon_days: int) -> bool:
    """True when the data reaches the end of the label window of `cutoff`."""
    _first, last = data.date_range()
    return last is not None and last >= cutoff + timedelta(days=horizon_days)


def feature_importance(
    trained: TrainedChurnModel, frame: pd.DataFrame, cfg: ChurnConfig
) -> pd.DataFrame:
    """Permutation importance (drop in ROC AUC) on a deterministic sample of `frame`."""
    sample = frame
    if len(frame) > cfg.importance.max_rows:
        sample = frame.sample(n=cfg.importance.max_rows, random_state=cfg.seed)
    y = sample["churned"].to_numpy()
    if len(np.unique(y)) < 2:
        return pd.DataFrame(columns=["feature", "importance_mean", "importance_std"])
    result = permutation_importance(
        trained.model,
        sample[trained.feature_names],
        y,
        scoring="roc_auc",
        n_repeats=cfg.importance.n_repeats,
        random_state=cfg.seed,
        n_jobs=1,
    )
    out = pd.DataFrame(
        {
            "feature": trained.feature_names,
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
        }
    )
    return out.sort_values(["importance_mean", "feature"], ascending=[False, True]).reset_index(
        drop=True
    )


def metrics_markdown(evaluation: Evaluation) -> str:
    lines = [
        "| scorer | ROC AUC | PR AUC | Brier | lift top decile | churn rate | n |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in evaluation.metrics.items():
        lines.append(
            f"| {name} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {m['brier']:.4f} | "
            f"{m['lift_top_decile']:.2f} | {m['churn_rate']:.3f} | {m['n']} |"
        )
    return "\n".join(lines)


def calibration_markdown(evaluation: Evaluation) -> str:
    names = list(evaluation.calibration)
    header = "| decile | " + " | ".join(f"{n} predicted | {n} observed" for n in names) + " |"
    lines = [header, "|---" * (1 + 2 * len(names)) + "|"]
    tables = [evaluation.calibration[n].set_index("decile") for n in names]
    for decile in tables[0].index:
        cells = []
        for t in tables:
            cells += [
                f"{t.loc[decile, 'mean_predicted']:.3f}",
                f"{t.loc[decile, 'observed_rate']:.3f}",
            ]
        lines.append(f"| {decile} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
