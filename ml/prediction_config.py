"""`config/predictions.yaml`: purchase propensity, lead scoring and product recommendations.

Validated by pydantic (unknown keys rejected, errors name the file and the dotted field). The
values are bounds and priors: hyper-parameters are chosen by a validation inside the training
window among the `candidates` listed here, never on the data a model is graded on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, PositiveFloat, model_validator

from ml.config import DriftConfig, ModelParams, Retrained, _Strict, load_config_file


class BoosterCandidate(ModelParams):
    """One gradient-boosting setting tried by the validation inside the training window: the
    churn model's parameters with the smaller defaults and bounds of these smaller models."""

    max_iter: int = Field(150, ge=10, le=2000)
    max_leaf_nodes: int = Field(15, ge=2, le=256)
    min_samples_leaf: int = Field(50, ge=1)


class ClassifierConfig(Retrained):
    """A binary "buys within horizon_days" model trained on labelled cutoffs inside the history."""

    horizon_days: int = Field(30, ge=7, le=365)
    cutoff_spacing_days: int = Field(30, ge=7, le=365)
    n_training_cutoffs: int = Field(8, ge=3, le=60)
    max_rows_per_cutoff: int = Field(10000, ge=100)
    # the back-test grades a hash sample of this many persons when the population is larger
    backtest_max_rows: int = Field(200_000, ge=1000)
    candidates: tuple[BoosterCandidate, ...] = Field(
        default=(
            BoosterCandidate(),
            BoosterCandidate(
                max_iter=100, max_leaf_nodes=7, min_samples_leaf=100, l2_regularization=5.0
            ),
        ),
        min_length=1,
    )
    # logistic-regression candidates (L2 strength C) tried next to the boosters; () for none
    logistic_c: tuple[PositiveFloat, ...] = Field(default=(0.1,), max_length=5)
    blend: bool = True  # also try the mean of each booster and each logistic regression
    # the choice is the mean PR AUC over this many latest labelled cutoffs
    n_validation_cutoffs: int = Field(3, ge=1, le=12)
    drift: DriftConfig = DriftConfig(exclude=())


class PropensityConfig(ClassifierConfig):
    high_threshold: float = Field(0.3, gt=0, lt=1)


class LeadsConfig(ClassifierConfig):
    horizon_days: int = Field(90, ge=7, le=365)
    cutoff_spacing_days: int = Field(45, ge=7, le=365)
    n_training_cutoffs: int = Field(6, ge=3, le=60)


class RecommendationCandidate(_Strict):
    """A recommender tried by the validation inside the training window."""

    kind: str = Field("als", pattern="^(als|item_cooccurrence|item_cosine|bm25|category)$")
    factors: int = Field(32, ge=2, le=512)
    regularization: float = Field(0.05, ge=0)
    iterations: int = Field(15, ge=1, le=200)
    alpha: float = Field(10.0, gt=0)
    neighbours: int = Field(100, ge=5, le=2000)


class RecommendationsConfig(Retrained):
    top_n: int = Field(10, ge=1, le=100)
    exclude_bought_days: int = Field(90, ge=0, le=3650)
    history_days: int = Field(1095, ge=30, le=3650)
    min_stock: int = Field(1, ge=1)
    view_weight: float = Field(0.05, ge=0, le=10)
    cart_weight: float = Field(0.2, ge=0, le=10)
    popularity_days: int = Field(90, ge=7, le=3650)
    test_days: int = Field(90, ge=7, le=365)
    candidates: tuple[RecommendationCandidate, ...] = Field(
        default=(
            RecommendationCandidate(kind="category"),
            RecommendationCandidate(kind="item_cooccurrence", neighbours=300),
            RecommendationCandidate(kind="als", factors=8, regularization=0.5),
        ),
        min_length=1,
    )
    # weights `a` of the personal distribution next to popularity, each tried by the validation
    blend_weights: tuple[Annotated[float, Field(gt=0, le=1)], ...] = Field(
        default=(0.1, 0.25, 0.5, 0.75, 1.0), min_length=1, max_length=10
    )
    sync_top: int = Field(3, ge=1, le=10)
    # the validation and the back-test grade a hash sample of this many of a window's buyers
    grade_max_buyers: int = Field(100_000, ge=1000)
    # ALS fits its product factors on a hash sample of this many persons, then solves every
    # person's factors with them fixed
    fit_max_persons: int = Field(300_000, ge=1000)

    @model_validator(mode="after")
    def _sync_within_top(self) -> RecommendationsConfig:
        if self.sync_top > self.top_n:
            raise ValueError(f"sync_top ({self.sync_top}) must not exceed top_n ({self.top_n})")
        return self


class PredictionsConfig(_Strict):
    seed: int = 42
    threads: int = Field(1, ge=1, le=64)
    propensity: PropensityConfig = PropensityConfig()
    leads: LeadsConfig = LeadsConfig()
    recommendations: RecommendationsConfig = RecommendationsConfig()


def load_predictions_config(path: str | Path | None = None) -> PredictionsConfig:
    """Read and validate `predictions.yaml` (default: `<CDP_CONFIG_DIR>/predictions.yaml`)."""
    return load_config_file(path, "predictions.yaml", PredictionsConfig)
