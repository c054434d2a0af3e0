"""Logistic-regression churn candidate: log recency, tenure, frequency and monetary value plus
the BG/NBD outputs, all read as of the cutoff.

Why a linear candidate next to the gradient boosting: on a short history the labelled cutoffs
hold younger customers than the scoring cutoff (tenure and counts grow with the calendar). Trees
cannot extrapolate past the values they saw; a logistic model on log scales does, and it keeps
the BG/NBD evidence as one smooth term. Whether it is used is decided per run by the
time-based validation (`ml/model.py`), never by the back-test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

GLM_NAME = "glm"
# Columns of the training frame the candidate reads (SQL features, then BG/NBD outputs).
GLM_INPUTS = (
    "recency_days",
    "tenure_days",
    "orders_all",
    "amount_all",
    "bgnbd_p_churn",
    "bgnbd_p_alive",
    "bgnbd_orders_in_label_horizon",
)
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def glm_transform(x: np.ndarray) -> np.ndarray:
    """log1p of the four counts and amounts (negatives clipped), logits of the two BG/NBD
    probabilities, log1p of the BG/NBD expected purchases; missing values count as 0."""
    x = np.nan_to_num(np.asarray(x, dtype="float64"), nan=0.0)
    return np.column_stack(
        [
            np.log1p(np.clip(x[:, :4], 0, None)),
            _logit(x[:, 4]),
            _logit(x[:, 5]),
            np.log1p(np.clip(x[:, 6], 0, None)),
        ]
    )


def fit_glm(frames: list[pd.DataFrame]) -> Pipeline | None:
    """The candidate fitted on the labelled rows of `frames`; None on single-class labels."""
    rows = pd.concat(frames, ignore_index=True)
    y = rows["churned"].to_numpy()
    if len(np.unique(y)) < 2:
        return None
    return make_pipeline(
        FunctionTransformer(glm_transform),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    ).fit(rows[list(GLM_INPUTS)], y)


def glm_predict(glm: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """P(no purchase within the label horizon)."""
    return glm.predict_proba(frame[list(GLM_INPUTS)])[:, 1]
