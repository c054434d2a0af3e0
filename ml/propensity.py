"""Purchase propensity (buyers: an order within 30 days) and lead scoring (identified persons
who never bought: a first order within 90 days), trained the same way.

Training as of `A` reads nothing after `A`: labelled cutoffs `A - h - k * spacing` put every
label window before `A`. The hyper-parameters (one of the configured booster candidates, or the
recency-frequency baseline itself) are chosen at the latest labelled cutoff with models fitted
on the cutoffs whose label windows end on or before it; the chosen setting is then refitted on
every labelled cutoff. The back-test (`ml/prediction_scoring.py`) trains as of `E = T - h` and
grades at `E` with the outcomes after it, which no training step has seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ml.behaviour import BehaviourData
from ml.drift import build_reference
from ml.metrics import metrics
from ml.model import InsufficientHistoryError, _rfm_transform
from ml.prediction_config import ClassifierConfig

PROPENSITY = "propensity"
LEADS = "leads"
BASELINE = "recency_frequency_baseline"
# Recency-frequency baseline inputs per task (log1p, then logistic regression).
BASELINE_FEATURES = {
    PROPENSITY: ("recency_days", "orders_all"),
    LEADS: ("days_since_last_touch", "identified_touches_90d"),
}
MIN_HISTORY_DAYS = 90


def features_at(data: BehaviourData, task: str, cutoff: date) -> pd.DataFrame:
    """`customer_id, cutoff` + the task's features for its population at `cutoff`."""
    if task == PROPENSITY:
        base = data.base.features_at(cutoff)
        activity = data.activity_at(
            cutoff, data.buyer_population_sql(cutoff), skip=set(base.columns)
        )
        return base.merge(activity, on="customer_id", how="left")
    activity = data.activity_at(cutoff, data.lead_population_sql(cutoff))
    activity.insert(1, "cutoff", pd.Timestamp(cutoff))
    return activity


def feature_names(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("customer_id", "cutoff", "bought")]


def labelled_at(data: BehaviourData, task: str, cutoff: date, horizon_days: int) -> pd.DataFrame:
    """Features and `bought` at `cutoff`; kept in `data.cache`, since the back-test and the
    final training share all but one of their cutoffs."""
    key = (task, cutoff, horizon_days)
    if key not in data.cache:
        frame = features_at(data, task, cutoff)
        buyers = set(data.bought_within(cutoff, horizon_days)["customer_id"])
        frame["bought"] = frame["customer_id"].isin(buyers).astype("int8")
        data.cache[key] = frame
    return data.cache[key].copy()


def training_cutoffs(as_of: date, first: date, cfg: ClassifierConfig) -> list[date]:
    out = []
    for k in range(cfg.n_training_cutoffs):
        c = as_of - timedelta(days=cfg.horizon_days + k * cfg.cutoff_spacing_days)
        if (c - first).days < MIN_HISTORY_DAYS:
            break
        out.append(c)
    return sorted(out)


def _baseline() -> Pipeline:
    return make_pipeline(
        FunctionTransformer(_rfm_transform), StandardScaler(), LogisticRegression(max_iter=1000)
    )


@dataclass
class TrainedClassifier:
    """The chosen scorer (booster or the baseline), the baseline, and audit facts."""

    task: str
    as_of: date
    horizon_days: int
    cutoffs: list[date]
    feature_names: list[str]
    chosen: str  # "model" or BASELINE
    chosen_params: dict | None
    model: HistGradientBoostingClassifier | None
    baseline: Pipeline
    threads: int = 1
    n_training_rows: int = 0
    positive_rate: float = 0.0
    validation: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)
    reference_cutoff: date | None = None

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self.model is None:
            return self.predict_baseline(frame)
        with threadpool_limits(limits=self.threads, user_api="openmp"):
            return self.model.predict_proba(frame[self.feature_names])[:, 1]

    def predict_baseline(self, frame: pd.DataFrame) -> np.ndarray:
        cols = list(BASELINE_FEATURES[self.task])
        proba = self.baseline.predict_proba(frame[cols].fillna(3650.0))
        if proba.shape[1] == 1:  # the prior of single-class training labels
            return np.full(len(frame), float(self.baseline.classes_[0]))
        return proba[:, 1]


def _fit_booster(rows: pd.DataFrame, names: list[str], params: dict, seed: int):
    y = rows["bought"].to_numpy()
    if len(np.unique(y)) < 2:
        return None
    hgb = HistGradientBoostingClassifier(**params, early_stopping=False, random_state=seed)
    return hgb.fit(rows[names], y)


def _fit_baseline(task: str, rows: pd.DataFrame, prior: bool = False):
    """The recency-frequency logistic regression; on single-class labels None, or with
    `prior` the training positive rate for everyone (a tiny population can have no buyer)."""
    y = rows["bought"].to_numpy()
    cols = list(BASELINE_FEATURES[task])
    if len(np.unique(y)) < 2:
        return DummyClassifier(strategy="prior").fit(rows[cols], y) if prior else None
    return _baseline().fit(rows[cols].fillna(3650.0), y)


def _choose(
    task: str,
    frames: list[pd.DataFrame],
    names: list[str],
    cfg: ClassifierConfig,
    seed: int,
) -> dict:
    """Validation at the latest labelled cutoff: each candidate and the baseline are fitted on
    the cutoffs whose label windows end on or before it, then graded there by PR AUC."""
    val = frames[-1]
    val_cutoff = pd.Timestamp(val["cutoff"].iloc[0]).date()
    train_frames = [
        f
        for f in frames[:-1]
        if pd.Timestamp(f["cutoff"].iloc[0]).date() + timedelta(days=cfg.horizon_days) <= val_cutoff
    ]
    if not train_frames:
        raise InsufficientHistoryError(f"{task}: no labelled cutoff before the validation one")
    rows = pd.concat(train_frames, ignore_index=True)
    y = val["bought"].to_numpy()
    table, params = {}, {}
    baseline = _fit_baseline(task, rows)
    if baseline is not None:
        cols = list(BASELINE_FEATURES[task])
        table[BASELINE] = metrics(y, baseline.predict_proba(val[cols].fillna(3650.0))[:, 1])
    for i, cand in enumerate(cfg.candidates):
        model = _fit_booster(rows, names, cand.model_dump(), seed)
        if model is not None:
            table[f"booster_{i}"] = metrics(y, model.predict_proba(val[names])[:, 1])
            params[f"booster_{i}"] = cand.model_dump()
    if not table:
        raise InsufficientHistoryError(f"{task}: single-class labels in the training window")
    chosen = max(table, key=lambda n: (np.nan_to_num(table[n]["pr_auc"]), n != BASELINE))
    return {
        "cutoff": val_cutoff.isoformat(),
        "training_cutoffs": [
            pd.Timestamp(f["cutoff"].iloc[0]).date().isoformat() for f in train_frames
        ],
        "criterion": "highest PR AUC at the validation cutoff",
        "metrics": table,
        "chosen": chosen,
        "chosen_params": params.get(chosen),
    }


def train(
    data: BehaviourData, task: str, as_of: date, cfg: ClassifierConfig, seed: int, threads: int
) -> TrainedClassifier:
    """Choose by validation inside the history, refit on every labelled cutoff before `as_of`."""
    first, _last = data.base.date_range()
    if first is None or first > as_of:
        raise InsufficientHistoryError(f"no purchase on or before {as_of}")
    cutoffs = training_cutoffs(as_of, first, cfg)
    if not cutoffs:
        raise InsufficientHistoryError(f"{task}: no labelled cutoff fits before {as_of}")
    with threadpool_limits(limits=threads, user_api="openmp"):
        frames = [labelled_at(data, task, c, cfg.horizon_days) for c in cutoffs]
        frames = [f for f in frames if len(f)]
        if not frames:
            raise InsufficientHistoryError(f"{task}: nobody in the population at any cutoff")
        sample = [
            f.sample(n=cfg.max_rows_per_cutoff, random_state=seed)
            if len(f) > cfg.max_rows_per_cutoff
            else f
            for f in frames
        ]
        names = feature_names(sample[-1])
        try:
            validation = _choose(task, sample, names, cfg, seed)
        except InsufficientHistoryError as exc:
            validation = {"note": f"not validated ({exc}): baseline used", "chosen": BASELINE}
            validation["chosen_params"] = None
        rows = pd.concat(sample, ignore_index=True)
        baseline = _fit_baseline(task, rows, prior=True)
        model = None
        if validation["chosen"] != BASELINE:
            model = _fit_booster(rows, names, validation["chosen_params"], seed)
    trained = TrainedClassifier(
        task=task,
        as_of=as_of,
        horizon_days=cfg.horizon_days,
        cutoffs=cutoffs,
        feature_names=names,
        chosen="model" if model is not None else BASELINE,
        chosen_params=validation["chosen_params"],
        model=model,
        baseline=baseline,
        threads=threads,
        n_training_rows=len(rows),
        positive_rate=float(rows["bought"].mean()),
        validation=validation,
    )
    latest = sample[-1]
    ref = latest[names].assign(score=trained.predict(latest))
    trained.reference = build_reference(ref, [*names, "score"], cfg.drift.n_bins)
    trained.reference_cutoff = cutoffs[-1]
    return trained


def evaluate(trained: TrainedClassifier, data: BehaviourData, cutoff: date) -> dict:
    """Metrics of the chosen scorer and of the baseline at `cutoff` against the purchases of
    the horizon after it (`data` must reach that far)."""
    frame = labelled_at(data, trained.task, cutoff, trained.horizon_days)
    y = frame["bought"].to_numpy()
    return {
        "cutoff": cutoff.isoformat(),
        "metrics": {
            "model": metrics(y, trained.predict(frame)),
            BASELINE: metrics(y, trained.predict_baseline(frame)),
        },
    }
