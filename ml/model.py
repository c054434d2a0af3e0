"""Training, candidate choice by time-based validation, baselines and backtest of the churn
and value models.

Training as of a date `A` uses only data before `A + 1 day`. A training plan (`training_plan`)
puts labelled cutoffs inside the history, every label window ending on or before `A`; when the
full horizon does not fit, a shorter label horizon is used. Candidates: the gradient-boosting
model (SQL features + BG/NBD outputs fitted at each cutoff), and the label-free BG/NBD and
Pareto/NBD models. The latest cutoff is a time-based validation: the gradient-boosting model
is fitted on the earlier cutoffs and every candidate is scored there; the lowest Brier score
wins. With one labelled cutoff only the label-free models can be validated; with none, BG/NBD
is used unvalidated. The model card says which case applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import permutation_importance
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ml.config import ChurnConfig
from ml.features import RFM_FEATURES, ChurnData
from ml.glm import GLM_NAME, fit_glm, glm_predict
from ml.metrics import calibration_table, metrics, value_metrics
from ml.purchase import (
    BGNBD_NAME,
    LABEL_FREE,
    PNBD_NAME,
    PURCHASE_FEATURES,
    PurchaseFit,
    fit_purchase_models,
    purchase_features,
    summary_at,
)
from ml.trained import TrainedScorer

MODEL = "model"
RECENCY = "recency_baseline"
RFM = "rfm_logistic"
RECENT_REVENUE = "recent_revenue_baseline"


class InsufficientHistoryError(ValueError):
    """No purchase at all before the as-of date, or labels of a single class."""


# ---------------------------------------------------------------------- training plan
@dataclass(frozen=True)
class TrainingPlan:
    label_horizon_days: int
    cutoffs: list[date]
    min_history_days: int
    spacing_days: int

    def describe(self, horizon_days: int) -> str:
        if not self.cutoffs:
            return "no labelled cutoff fits in the history"
        label = f"label horizon {self.label_horizon_days} days"
        if self.label_horizon_days < horizon_days:
            label += f" (shortened from {horizon_days}: the full horizon does not fit)"
        return (
            f"{len(self.cutoffs)} labelled cutoff(s) every {self.spacing_days} days with "
            f">= {self.min_history_days} days of history before each; {label}"
        )


def _cutoffs(as_of: date, first: date, horizon: int, history: int, spacing: int, n: int):
    out = []
    for k in range(n):
        c = as_of - timedelta(days=horizon + k * spacing)
        if (c - first).days < history:
            break
        out.append(c)
    return sorted(out)


def training_plan(as_of: date, first_purchase: date | None, cfg: ChurnConfig) -> TrainingPlan:
    """The configured plan if it gives enough cutoffs to validate, else the short-history
    plans (shorter minimum history and spacing, then shorter label horizons)."""
    if first_purchase is None:
        return TrainingPlan(cfg.horizon_days, [], cfg.min_history_days, cfg.cutoff_spacing_days)
    short = cfg.short_history
    available = (as_of - first_purchase).days
    options = [
        (cfg.horizon_days, cfg.min_history_days, cfg.cutoff_spacing_days),
        (cfg.horizon_days, short.min_history_days, short.cutoff_spacing_days),
    ]
    for k in range(short.wanted_cutoffs - 1, -1, -1):
        h = available - short.min_history_days - k * short.cutoff_spacing_days
        if short.min_label_horizon_days <= h < cfg.horizon_days:
            options.append((h, short.min_history_days, short.cutoff_spacing_days))
    plans = [
        TrainingPlan(h, _cutoffs(as_of, first_purchase, h, m, s, cfg.n_training_cutoffs), m, s)
        for h, m, s in options
    ]
    for plan in plans:
        if len(plan.cutoffs) >= short.wanted_cutoffs:
            return plan
    return max(plans, key=lambda p: len(p.cutoffs))  # first of the longest on ties


def training_cutoffs(as_of: date, first_purchase: date | None, cfg: ChurnConfig) -> list[date]:
    return training_plan(as_of, first_purchase, cfg).cutoffs


# ---------------------------------------------------------------------- frames
def label_free_columns(
    fit: PurchaseFit, summary: pd.DataFrame, horizon_days: int, label_days: int, value_days: int
) -> pd.DataFrame:
    """Per label-free model: P(churn) over the scoring and the label horizon, expected orders
    and revenue over the value horizon."""
    out = {"customer_id": summary["customer_id"].to_numpy()}
    for name in LABEL_FREE:
        if name == PNBD_NAME and fit.pnbd is None:
            continue
        out[f"{name}_p_churn_horizon"] = fit.p_churn(name, summary, horizon_days)
        out[f"{name}_p_churn_label"] = fit.p_churn(name, summary, label_days)
        out[f"{name}_expected_orders"] = fit.expected_orders(name, summary, value_days)
        out[f"{name}_expected_revenue"] = fit.expected_revenue(name, summary, value_days)
        out[f"{name}_expected_revenue_label"] = fit.expected_revenue(name, summary, label_days)
    out["recent_revenue"] = summary["revenue_365d"].to_numpy() * value_days / 365.0
    return pd.DataFrame(out)


def _fit_at(
    data: ChurnData,
    cutoff: date,
    cfg: ChurnConfig,
    *,
    pareto: bool,
    start: PurchaseFit | None = None,
):
    summary = summary_at(data, cutoff)
    pm = cfg.purchase_model
    fit = fit_purchase_models(
        summary,
        cutoff,
        max_rows=pm.max_fit_rows,
        seed=cfg.seed,
        penalizer=pm.penalizer,
        pareto=pareto,
        spend=pareto,
        start=start,
    )
    return summary, fit


def build_frame(
    data: ChurnData,
    cutoff: date,
    cfg: ChurnConfig,
    label_days: int,
    *,
    fit: tuple[pd.DataFrame, PurchaseFit] | None = None,
    labelled: bool = False,
    label_free: bool = True,
) -> tuple[pd.DataFrame, PurchaseFit]:
    """SQL features at `cutoff` joined with the purchase-model features (label horizon) and,
    with `label_free`, the label-free columns; with `labelled`, `churned` over the label
    horizon (training rows are then sampled per `max_rows_per_cutoff`). A labelled frame is
    kept in `data.cache`: the back-test's training as of `E` and the final one as of
    `E + horizon` share all but their latest cutoffs."""
    key = None
    if labelled and fit is None:
        settings = cfg.model_dump_json(
            include={"max_rows_per_cutoff", "seed", "horizon_days", "purchase_model"}
        )
        key = ("churn-frame", cutoff, label_days, label_free, settings)
        if key in data.cache:
            frame, pfit = data.cache[key]
            return frame.copy(), pfit
    summary, pfit = fit or _fit_at(data, cutoff, cfg, pareto=label_free)
    frame = data.features_at(
        cutoff,
        horizon_days=label_days if labelled else None,
        max_rows=cfg.max_rows_per_cutoff if labelled else None,
        seed=cfg.seed,
    )
    if len(frame) < len(summary):  # a sample: score the purchase models on its rows only
        summary = summary[summary["customer_id"].isin(frame["customer_id"])]
    frame = frame.merge(purchase_features(pfit, summary, label_days), on="customer_id")
    if label_free:
        extra = label_free_columns(
            pfit, summary, cfg.horizon_days, label_days, cfg.purchase_model.value_horizon_days
        )
        frame = frame.merge(extra, on="customer_id")
    if key is not None:
        data.cache[key] = (frame, pfit)
        return frame.copy(), pfit
    return frame, pfit


# ---------------------------------------------------------------------- the trained model
def _rfm_transform(x: np.ndarray) -> np.ndarray:
    """log1p of recency, frequency and (non-negative) monetary value."""
    return np.log1p(np.clip(np.asarray(x, dtype="float64"), 0, None))


@dataclass(kw_only=True)
class TrainedChurnModel(TrainedScorer):
    """The chosen churn scorer with its baselines, purchase models and audit facts.

    Until validation chooses, the label-free BG/NBD scores, extrapolates and values."""

    first_purchase: date
    purchase_fit: PurchaseFit
    plan: TrainingPlan
    chosen: str = BGNBD_NAME  # MODEL, GLM_NAME, BGNBD_NAME or PNBD_NAME
    label_free: str = BGNBD_NAME  # the better label-free model by Brier: extrapolation
    value_model: str = BGNBD_NAME  # the label-free model whose revenue ranked best: value
    model: CalibratedClassifierCV | None = None
    glm: Pipeline | None = None
    recency_baseline: IsotonicRegression | None = None
    rfm_baseline: Pipeline | None = None
    calibration_cutoff: date | None = None
    calibration_method: str = "isotonic"
    training_churn_rate: float | None = None

    @property
    def training_cutoffs(self) -> list[date]:
        return self.plan.cutoffs

    @property
    def label_horizon_days(self) -> int:
        return self.plan.label_horizon_days

    def frame(self, data: ChurnData, cutoff: date, cfg: ChurnConfig) -> pd.DataFrame:
        """Everything needed to score at `cutoff`; the stored fit is reused at `as_of`."""
        fit = None
        if cutoff == self.as_of:
            fit = (summary_at(data, cutoff), self.purchase_fit)
        frame, _ = build_frame(data, cutoff, cfg, self.label_horizon_days, fit=fit)
        return frame

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """P(no purchase within `horizon_days`). The gradient-boosting model predicts the label
        horizon; when that is shorter, the label-free model supplies the rest:
        P(quiet over H) = P(quiet over h) * P_lf(quiet over H) / P_lf(quiet over h).
        The logistic candidate (GLM_NAME) is extrapolated the same way."""
        if self.chosen == GLM_NAME:
            p = glm_predict(self.glm, frame)
        elif self.chosen == MODEL:
            with threadpool_limits(limits=self.threads, user_api="openmp"):
                p = self.model.predict_proba(frame[self.feature_names])[:, 1]
        else:
            return frame[f"{self.chosen}_p_churn_horizon"].to_numpy()
        if self.label_horizon_days < self.horizon_days:
            lf = self.label_free
            ratio = frame[f"{lf}_p_churn_horizon"].to_numpy() / np.maximum(
                frame[f"{lf}_p_churn_label"].to_numpy(), 1e-12
            )
            p = p * np.clip(ratio, 0.0, 1.0)
        return p

    def predict_all(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Churn probabilities of the chosen scorer and of every baseline."""
        out = {MODEL: self.predict(frame)}
        if self.recency_baseline is not None:
            out[RECENCY] = self.recency_baseline.predict(frame["recency_days"].to_numpy())
        if self.rfm_baseline is not None:
            out[RFM] = self.rfm_baseline.predict_proba(frame[list(RFM_FEATURES)])[:, 1]
        for name in LABEL_FREE:
            if f"{name}_p_churn_horizon" in frame:
                out[name] = frame[f"{name}_p_churn_horizon"].to_numpy()
        return out

    def predict_value(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Expected orders and revenue over the value horizon (the label-free model chosen
        for value, with the Gamma-Gamma spend model)."""
        lf = self.value_model
        return frame[f"{lf}_expected_orders"].to_numpy(), frame[f"{lf}_expected_revenue"].to_numpy()

    def predict_value_all(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        out = {MODEL: self.predict_value(frame)[1], RECENT_REVENUE: frame["recent_revenue"]}
        for name in LABEL_FREE:
            if f"{name}_expected_revenue" in frame:
                out[f"{name}_gamma_gamma"] = frame[f"{name}_expected_revenue"].to_numpy()
        return out


def _cutoff_of(frame: pd.DataFrame) -> date:
    return pd.Timestamp(frame["cutoff"].iloc[0]).date()


def _single_class(y: np.ndarray) -> bool:
    return len(np.unique(y)) < 2


def _trees(
    frames: list[pd.DataFrame],
    names: list[str],
    cfg: ChurnConfig,
    later: pd.DataFrame | None = None,
):
    """Gradient boosting on the rows of `frames`; None when the labels have a single class.
    With `later` (a later labelled cutoff) the number of trees is chosen there: boosting
    stops after `model.n_iter_no_change` rounds without a lower log-loss on it."""
    rows = pd.concat(frames, ignore_index=True)
    y = rows["churned"].to_numpy()
    if _single_class(y):
        return None
    stop = later is not None and not _single_class(later["churned"].to_numpy())
    hgb = HistGradientBoostingClassifier(
        **cfg.model.model_dump(), early_stopping=stop, scoring="loss", random_state=cfg.seed
    )
    if not stop:
        return hgb.fit(rows[names], y)
    return hgb.fit(rows[names], y, X_val=later[names], y_val=later["churned"].to_numpy())


def _calibrated(trees, frame: pd.DataFrame, names: list[str], method: str):
    """The frozen trees calibrated on a later cutoff; None on single-class labels."""
    y = frame["churned"].to_numpy()
    if trees is None or _single_class(y):
        return None
    return CalibratedClassifierCV(FrozenEstimator(trees), method=method).fit(frame[names], y)


def _value_choice(val: pd.DataFrame, revenue: np.ndarray | None) -> tuple[str, dict]:
    """The label-free model whose expected revenue over the label horizon ranks the revenue
    actually made in the label window of the validation cutoff best (Spearman); BG/NBD when
    that cannot be measured."""
    names = [n for n in LABEL_FREE if f"{n}_expected_revenue_label" in val]
    if not names or revenue is None or len(np.unique(revenue)) < 2:
        return BGNBD_NAME, {}
    table = {
        n: value_metrics(revenue, val[f"{n}_expected_revenue_label"].to_numpy()) for n in names
    }
    return max(table, key=lambda n: (table[n]["spearman"], n == BGNBD_NAME)), table


def _validate(
    frames: list[pd.DataFrame],
    names: list[str],
    cfg: ChurnConfig,
    has_pnbd: bool,
    revenue: np.ndarray | None = None,
):
    """Score every candidate at the latest labelled cutoff; the earlier ones train (and
    calibrate) the gradient-boosting candidate and train the logistic one. Returns the trees
    and the validation record for the model card (with the value model chosen from
    `revenue`, the revenue made in the validation cutoff's label window)."""
    val = frames[-1]
    y = val["churned"].to_numpy()
    scores = {BGNBD_NAME: val[f"{BGNBD_NAME}_p_churn_label"].to_numpy()}
    if has_pnbd:
        scores[PNBD_NAME] = val[f"{PNBD_NAME}_p_churn_label"].to_numpy()
    note, trees = None, None
    if len(frames) >= 2:
        glm = fit_glm(frames[:-1])
        if glm is not None:
            scores[GLM_NAME] = glm_predict(glm, val)
    if len(frames) >= 3:
        # trees on the earliest cutoffs, stopped early and calibrated on the one before the
        # validation cutoff
        trees = _trees(frames[:-2], names, cfg, later=frames[-2])
        calibrated = _calibrated(trees, frames[-2], names, cfg.calibration)
        if calibrated is not None:
            scores[MODEL] = calibrated.predict_proba(val[names])[:, 1]
    elif len(frames) == 2:
        trees = _trees(frames[:1], names, cfg)
        if trees is not None:
            note = "two labelled cutoffs: gradient boosting validated without calibration"
            scores[MODEL] = trees.predict_proba(val[names])[:, 1]
    else:
        note = "gradient boosting not validated: only one labelled cutoff (needs two)"
    if trees is not None and MODEL not in scores:
        note = "gradient boosting not validated: single-class labels before the validation"
    table = {name: metrics(y, p) for name, p in scores.items()}
    chosen = min(table, key=lambda n: (table[n]["brier"], n != MODEL))
    label_free = min((n for n in table if n in LABEL_FREE), key=lambda n: table[n]["brier"])
    value_model, value_table = _value_choice(val, revenue)
    return trees, {
        "cutoff": _cutoff_of(val).isoformat(),
        "criterion": "lowest Brier score at the validation cutoff",
        "metrics": table,
        "chosen": chosen,
        "label_free": label_free,
        "value_criterion": "highest Spearman correlation of expected with actual revenue "
        "over the label horizon at the validation cutoff",
        "value_metrics": value_table,
        "value_model": value_model,
        "note": note,
    }


def train(data: ChurnData, as_of: date, cfg: ChurnConfig) -> TrainedChurnModel:
    """Plan, validate, choose and fit; nothing after `as_of` is read."""
    with threadpool_limits(limits=cfg.threads, user_api="openmp"):
        return _train(data, as_of, cfg)


def _train(data: ChurnData, as_of: date, cfg: ChurnConfig) -> TrainedChurnModel:
    first, _last = data.date_range()
    if first is None or first > as_of:
        raise InsufficientHistoryError(f"no purchase on or before {as_of}")
    plan = training_plan(as_of, first, cfg)
    h = plan.label_horizon_days
    names = [*data.feature_names(), *PURCHASE_FEATURES]
    frames, fit = [], None
    for i, c in enumerate(plan.cutoffs):
        latest = i == len(plan.cutoffs) - 1
        frame, fit = build_frame(data, c, cfg, h, labelled=True, label_free=latest)
        frames.append(frame)
    as_of_fit = _fit_at(data, as_of, cfg, pareto=True, start=fit)
    trained = TrainedChurnModel(
        as_of=as_of,
        first_purchase=first,
        horizon_days=cfg.horizon_days,
        feature_names=names,
        purchase_fit=as_of_fit[1],
        plan=plan,
        calibration_method=cfg.calibration,
        threads=cfg.threads,
    )
    if not frames:
        trained.validation = {"note": "nothing to validate: BG/NBD (label-free) is used"}
        latest = build_frame(data, as_of, cfg, h, fit=as_of_fit)[0]
    else:
        rows = pd.concat(frames, ignore_index=True)
        y_all = rows["churned"].to_numpy()
        trained.n_training_rows = len(rows)
        trained.training_churn_rate = float(y_all.mean())
        val_cutoff = _cutoff_of(frames[-1])
        revenue = (
            frames[-1][["customer_id"]]
            .merge(data.outcome_at(val_cutoff, h, h), on="customer_id", how="left")["revenue"]
            .fillna(0.0)
            .to_numpy()
        )
        trees, trained.validation = _validate(
            frames, names, cfg, as_of_fit[1].pnbd is not None, revenue
        )
        trained.chosen = trained.validation["chosen"]
        trained.label_free = trained.validation["label_free"]
        trained.value_model = trained.validation["value_model"]
        if trained.chosen == GLM_NAME:
            trained.glm = fit_glm(frames)  # refitted on every labelled cutoff
        if trained.chosen == MODEL:
            # the validated trees, recalibrated on the latest labelled cutoff
            trained.model = _calibrated(trees, frames[-1], names, cfg.calibration)
            trained.calibration_cutoff = _cutoff_of(frames[-1])
        if not _single_class(y_all):
            recency = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            trained.recency_baseline = recency.fit(rows["recency_days"].to_numpy(), y_all)
            trained.rfm_baseline = make_pipeline(
                FunctionTransformer(_rfm_transform),
                StandardScaler(),
                LogisticRegression(max_iter=1000),
            ).fit(rows[list(RFM_FEATURES)], y_all)
        latest = frames[-1]
    trained.keep_drift_reference(latest, _cutoff_of(latest), "churn_probability", cfg.drift.n_bins)
    return trained


# ---------------------------------------------------------------------- evaluation
@dataclass
class Evaluation:
    cutoff: date
    metrics: dict[str, dict[str, float]]
    calibration: dict[str, pd.DataFrame]
    scores: pd.DataFrame  # customer_id, churned, one column per scorer
    value_metrics: dict[str, dict[str, float]] | None = None


@dataclass
class Backtest:
    """A model trained as of an evaluation cutoff, its evaluation against the horizon after it
    and its feature importances; `note` says why what is missing is missing."""

    model: TrainedChurnModel | None = None
    evaluation: Evaluation | None = None
    importances: pd.DataFrame | None = None
    note: str | None = None


def evaluate_frame(
    trained: TrainedChurnModel, frame: pd.DataFrame, cutoff: date, revenue: np.ndarray | None
) -> Evaluation:
    """Metrics of the chosen scorer and the baselines on a frame carrying `churned` (and the
    actual revenue over the value horizon when `revenue` is given)."""
    y = frame["churned"].to_numpy()
    preds = trained.predict_all(frame)
    value = None
    if revenue is not None:
        value = {
            name: value_metrics(revenue, np.asarray(p))
            for name, p in trained.predict_value_all(frame).items()
        }
    return Evaluation(
        cutoff=cutoff,
        metrics={name: metrics(y, p) for name, p in preds.items()},
        calibration={name: calibration_table(y, p) for name, p in preds.items()},
        scores=pd.DataFrame({"customer_id": frame["customer_id"], "churned": y, **preds}),
        value_metrics=value,
    )


def evaluate(
    trained: TrainedChurnModel,
    data: ChurnData,
    cutoff: date,
    cfg: ChurnConfig,
    value_days: int | None = None,
) -> tuple[Evaluation, pd.DataFrame]:
    """Score every customer eligible at `cutoff` and compare with the observed outcome; value
    over `value_days` (default: the configured value horizon) when the data covers it.
    Returns the evaluation and the scored frame (with `churned`, `orders`, `revenue`)."""
    value_days = value_days or cfg.purchase_model.value_horizon_days
    cfg_v = with_value_horizon(cfg, value_days)
    frame = trained.frame(data, cutoff, cfg_v).merge(
        data.outcome_at(cutoff, trained.horizon_days, value_days), on="customer_id"
    )
    revenue = None
    if label_observable(data, cutoff, value_days):
        revenue = frame["revenue"].to_numpy()
    return evaluate_frame(trained, frame, cutoff, revenue), frame


def with_value_horizon(cfg: ChurnConfig, value_days: int) -> ChurnConfig:
    """The same configuration with another value horizon (back-tests over a shorter window)."""
    pm = cfg.purchase_model.model_copy(update={"value_horizon_days": int(value_days)})
    return cfg.model_copy(update={"purchase_model": pm})


def label_observable(data: ChurnData, cutoff: date, horizon_days: int) -> bool:
    """True when the data reaches the end of the label window of `cutoff`."""
    _first, last = data.date_range()
    return last is not None and last >= cutoff + timedelta(days=horizon_days)


def feature_importance(
    trained: TrainedChurnModel, frame: pd.DataFrame, cfg: ChurnConfig
) -> pd.DataFrame | None:
    """Permutation importance (drop in ROC AUC) of the gradient-boosting model on a
    deterministic sample of `frame`; None when a label-free model was chosen."""
    if trained.model is None:
        return None
    sample = frame
    if len(frame) > cfg.importance.max_rows:
        sample = frame.sample(n=cfg.importance.max_rows, random_state=cfg.seed)
    y = sample["churned"].to_numpy()
    if _single_class(y):
        return None
    with threadpool_limits(limits=cfg.threads, user_api="openmp"):
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
