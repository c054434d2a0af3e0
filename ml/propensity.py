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

import json
from dataclasses import dataclass
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
from ml.metrics import metrics, paired_bootstrap
from ml.model import InsufficientHistoryError, _rfm_transform
from ml.prediction_config import ClassifierConfig
from ml.propensity_features import (
    LEADS,
    PROPENSITY,
    feature_names,
    id_ranges,
    labelled_at,
    population_sql,
    training_samples,
)
from ml.trained import TrainedScorer

BASELINE = "recency_frequency_baseline"
LOGISTIC = "logistic"
BLEND = "blend"
# Recency-frequency baseline inputs per task (log1p, then logistic regression).
BASELINE_FEATURES = {
    PROPENSITY: ("recency_days", "orders_all"),
    LEADS: ("days_since_last_touch", "identified_touches_90d"),
}
MIN_HISTORY_DAYS = 90
# a PR AUC over fewer buyers says nothing: such a validation cutoff is skipped
MIN_VALIDATION_POSITIVES = 10


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


@dataclass(kw_only=True)
class TrainedClassifier(TrainedScorer):
    """The chosen scorer (booster or the baseline), the baseline, and audit facts;
    `chosen` is "model" or BASELINE."""

    task: str
    cutoffs: list[date]
    chosen_params: dict | None
    model: HistGradientBoostingClassifier | Pipeline | Blend | None
    baseline: Pipeline
    positive_rate: float = 0.0

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


def _glm_inputs(x) -> np.ndarray:
    """Sign-preserving log1p of every feature with missing values at 0, plus a missing flag
    per feature (a "days since" with nothing yet, a gap with one purchase)."""
    v = np.asarray(x, dtype="float64")
    missing = np.isnan(v)
    v = np.where(missing, 0.0, v)
    return np.hstack([np.sign(v) * np.log1p(np.abs(v)), missing.astype("float64")])


def _fit_logistic(rows: pd.DataFrame, names: list[str], c: float):
    """L2 logistic regression on `_glm_inputs`: few parameters, so it learns from a small
    base what the booster needs many rows for."""
    y = rows["bought"].to_numpy()
    if len(np.unique(y)) < 2:
        return None
    model = make_pipeline(
        FunctionTransformer(_glm_inputs),
        StandardScaler(),
        LogisticRegression(C=c, max_iter=2000),
    )
    return model.fit(rows[names], y)


class Blend:
    """The mean probability of a booster and a logistic regression: their errors differ (trees
    cut, the linear model extrapolates), so the mean varies less than either on a small base."""

    def __init__(self, members: list) -> None:
        self.members = members

    def predict_proba(self, x) -> np.ndarray:
        return np.mean([m.predict_proba(x) for m in self.members], axis=0)


def _fit_candidate(rows: pd.DataFrame, names: list[str], params: dict, seed: int):
    if params.get("kind") == BLEND:
        members = [_fit_candidate(rows, names, p, seed) for p in params["members"]]
        return None if any(m is None for m in members) else Blend(members)
    if params.get("kind") == LOGISTIC:
        return _fit_logistic(rows, names, params["C"])
    return _fit_booster(rows, names, params, seed)


def _candidates(cfg: ClassifierConfig) -> dict[str, dict]:
    """Boosters, logistic regressions and, when `blend`, each booster x logistic pair."""
    boosters = {f"booster_{i}": cand.model_dump() for i, cand in enumerate(cfg.candidates)}
    logistic = {f"{LOGISTIC}_C{c:g}": {"kind": LOGISTIC, "C": c} for c in cfg.logistic_c}
    blends = {
        f"{BLEND}_{b}_{g}": {"kind": BLEND, "members": [bp, gp]}
        for b, bp in boosters.items()
        for g, gp in logistic.items()
        if cfg.blend
    }
    return {**boosters, **logistic, **blends}


def _day_of(frame: pd.DataFrame) -> date:
    return pd.Timestamp(frame["cutoff"].iloc[0]).date()


def _validation_scores(
    task: str,
    train_frames: list[pd.DataFrame],
    val: pd.DataFrame,
    names: list[str],
    candidates: dict[str, dict],
    seed: int,
) -> dict[str, np.ndarray]:
    """Every candidate's and the baseline's probabilities at `val`, fitted on `train_frames`."""
    rows = pd.concat(train_frames, ignore_index=True)
    scores: dict[str, np.ndarray] = {}
    baseline = _fit_baseline(task, rows)
    if baseline is not None:
        cols = list(BASELINE_FEATURES[task])
        scores[BASELINE] = baseline.predict_proba(val[cols].fillna(3650.0))[:, 1]
    for name, params in candidates.items():
        if params.get("kind") == BLEND:  # the members' scores, already computed
            parts = [n for n, p in candidates.items() if p in params["members"]]
            if all(n in scores for n in parts):
                scores[name] = np.mean([scores[n] for n in parts], axis=0)
        else:
            model = _fit_candidate(rows, names, params, seed)
            if model is not None:
                scores[name] = model.predict_proba(val[names])[:, 1]
    return scores


def _choose(
    task: str,
    frames: list[pd.DataFrame],
    names: list[str],
    cfg: ClassifierConfig,
    seed: int,
    cache: dict | None = None,
) -> dict:
    """Validation at the latest `n_validation_cutoffs` labelled cutoffs: at each, every
    candidate and the baseline are fitted on the latest `n_training_cutoffs -
    n_validation_cutoffs` cutoffs whose label windows end on or before it and graded there;
    the highest mean PR AUC wins (one cutoff holds few buyers on a small base, so a single
    one picks by chance). The window depends on the validation cutoff only, so the back-test
    training and the final one (one spacing apart) share all but one validation cutoff: their
    scores are kept in `cache` and fitted once."""
    h = timedelta(days=cfg.horizon_days)
    window = max(1, cfg.n_training_cutoffs - cfg.n_validation_cutoffs)
    candidates = _candidates(cfg)
    per_cutoff: dict[str, dict] = {}
    training: list[str] = []
    cache = {} if cache is None else cache
    for k in range(len(frames) - 1, max(len(frames) - 1 - cfg.n_validation_cutoffs, 0), -1):
        val, val_cutoff = frames[k], _day_of(frames[k])
        train_frames = [f for f in frames[:k] if _day_of(f) + h <= val_cutoff][-window:]
        if not train_frames:
            continue
        y = val["bought"].to_numpy()
        if y.sum() < MIN_VALIDATION_POSITIVES or y.sum() == len(y):
            continue
        key = (
            "validation",
            task,
            val_cutoff,
            tuple(_day_of(f) for f in train_frames),
            cfg.horizon_days,
            cfg.max_rows_per_cutoff,
            json.dumps(candidates, sort_keys=True),
            seed,
        )
        if key not in cache:
            cache[key] = _validation_scores(task, train_frames, val, names, candidates, seed)
        scores = cache[key]
        table = {
            name: metrics(y, scores[name]) for name in [BASELINE, *candidates] if name in scores
        }
        if table:
            per_cutoff[val_cutoff.isoformat()] = table
            training = training or [_day_of(f).isoformat() for f in train_frames]
    if not per_cutoff:
        raise InsufficientHistoryError(f"{task}: no labelled cutoff to validate on")
    scored = [n for n in [BASELINE, *candidates] if all(n in t for t in per_cutoff.values())]
    mean = {
        n: {
            m: float(np.mean([t[n][m] for t in per_cutoff.values()]))
            for m in ("pr_auc", "roc_auc", "brier", "lift_top_decile")
        }
        for n in scored
    }
    if not mean:
        raise InsufficientHistoryError(f"{task}: single-class labels in the training window")
    chosen = max(mean, key=lambda n: (np.nan_to_num(mean[n]["pr_auc"]), n != BASELINE))
    return {
        "cutoff": max(per_cutoff),
        "cutoffs": sorted(per_cutoff),
        "training_cutoffs": training,
        "criterion": "highest mean PR AUC over the validation cutoffs",
        "metrics": mean,
        "per_cutoff": per_cutoff,
        "chosen": chosen,
        "chosen_params": candidates.get(chosen),
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
    with (
        threadpool_limits(limits=threads, user_api="openmp"),
        training_samples(data, task, cutoffs, cfg, seed) as samples,
    ):
        frames = [
            labelled_at(
                data, task, c, cfg.horizon_days, cfg.max_rows_per_cutoff, seed, None, samples
            )
            for c in cutoffs
        ]
        sample = [f for f in frames if len(f)]
        if not sample:
            raise InsufficientHistoryError(f"{task}: nobody in the population at any cutoff")
        names = feature_names(sample[-1])
        try:
            validation = _choose(task, sample, names, cfg, seed, data.cache)
        except InsufficientHistoryError as exc:
            validation = {"note": f"not validated ({exc}): baseline used", "chosen": BASELINE}
            validation["chosen_params"] = None
        rows = pd.concat(sample, ignore_index=True)
        baseline = _fit_baseline(task, rows, prior=True)
        model = None
        if validation["chosen"] != BASELINE:
            model = _fit_candidate(rows, names, validation["chosen_params"], seed)
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
    trained.keep_drift_reference(sample[-1], cutoffs[-1], "score", cfg.drift.n_bins)
    return trained


def evaluate(
    trained: TrainedClassifier,
    data: BehaviourData,
    cutoff: date,
    max_rows: int | None = None,
    seed: int = 0,
) -> dict:
    """Metrics of the chosen scorer and of the baseline at `cutoff` against the purchases of
    the horizon after it (`data` must reach that far), graded range by range (`id_ranges`) in
    id order on the whole population or, with `max_rows`, on a hash sample of that many
    persons drawn without looking at the outcome (so the metrics estimate the population's)."""
    y, p_model, p_base = [], [], []
    sample = None
    if max_rows is not None:
        sample = population_sql(data, trained.task, cutoff, max_rows, seed)
    for where in id_ranges(data, trained.task, cutoff, population=sample):
        if sample is not None:
            inside = f"customer_id IN (SELECT customer_id FROM ({sample}))"
            where = inside if where is None else f"{where} AND {inside}"
        frame = labelled_at(data, trained.task, cutoff, trained.horizon_days, where=where)
        y.append(frame["bought"].to_numpy())
        p_model.append(trained.predict(frame))
        p_base.append(trained.predict_baseline(frame))
    y, p_model, p_base = (np.concatenate(parts) for parts in (y, p_model, p_base))
    return {
        "cutoff": cutoff.isoformat(),
        "graded": "every person" if sample is None else f"hash sample of at most {max_rows:,}",
        "metrics": {"model": metrics(y, p_model), BASELINE: metrics(y, p_base)},
        "model_minus_baseline": paired_bootstrap(y, p_model, p_base),
    }
