"""`config/churn.yaml`: pydantic models that reject unknown keys and name the file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cdp.config import load_yaml_model
from cdp.settings import get_settings

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retrained(_Strict):
    """The retraining cadence of a model (ml/cadence.py): a run reuses the newest artefact
    while it is younger than this many days and its config section is unchanged; 0 trains on
    every run. An operational setting, not a model parameter: left out of `model_dump` (so
    out of the card's `config`, the version hash and the change check)."""

    retrain_after_days: int = Field(7, ge=0, le=3650, exclude=True)


class ModelParams(_Strict):
    max_iter: int = Field(200, ge=10, le=5000)
    learning_rate: float = Field(0.05, gt=0, le=1)
    max_leaf_nodes: int = Field(31, ge=2, le=1024)
    min_samples_leaf: int = Field(200, ge=1)
    l2_regularization: float = Field(1.0, ge=0)


class ChurnModelParams(ModelParams):
    # Early stopping on the next (later) labelled cutoff: stop after this many rounds
    # without a lower loss there (a time-based stop, never a random split).
    n_iter_no_change: int = Field(10, ge=1, le=1000)


class RiskBands(_Strict):
    medium: float = Field(0.6, gt=0, lt=1)
    high: float = Field(0.85, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> RiskBands:
        if not self.medium < self.high:
            raise ValueError(f"medium ({self.medium}) must be below high ({self.high})")
        return self


class DriftConfig(_Strict):
    psi_threshold: float = Field(0.2, gt=0)
    n_bins: int = Field(10, ge=2, le=100)
    # PSI reported but never alarming: features that move with the calendar by construction
    exclude: tuple[str, ...] = ("tenure_days",)


class ImportanceConfig(_Strict):
    max_rows: int = Field(5000, ge=100)
    n_repeats: int = Field(3, ge=1, le=50)


class PurchaseModelConfig(_Strict):
    """BG/NBD, Pareto/NBD and Gamma-Gamma: parameters are estimated from the data; these bound
    the work and set an optional L2 penalty on the parameters (a prior towards 0)."""

    max_fit_rows: int = Field(10000, ge=100)
    penalizer: float = Field(0.0, ge=0)
    value_horizon_days: int = Field(365, ge=7, le=1825)


class ShortHistoryConfig(_Strict):
    """Fallback training plan when the full horizon and minimum history leave fewer than
    `wanted_cutoffs` labelled cutoffs: shorter minimum history and spacing, then a shorter
    label horizon (never under `min_label_horizon_days`)."""

    min_history_days: int = Field(90, ge=0, le=3650)
    cutoff_spacing_days: int = Field(45, ge=7, le=730)
    min_label_horizon_days: int = Field(28, ge=7, le=1095)
    wanted_cutoffs: int = Field(3, ge=2, le=60)


class ChurnConfig(Retrained):
    horizon_days: int = Field(180, ge=7, le=1095)
    cutoff_spacing_days: int = Field(90, ge=7, le=730)
    n_training_cutoffs: int = Field(6, ge=1, le=60)
    min_history_days: int = Field(180, ge=0, le=3650)
    max_rows_per_cutoff: int = Field(40000, ge=100)
    calibration: Literal["isotonic", "sigmoid"] = "isotonic"
    model: ChurnModelParams = ChurnModelParams()
    seed: int = 42
    # OpenMP threads for gradient boosting. On a shared 2-core machine (load 11) a 20k-row fit
    # took 59 s with the default threads and 4.3 s with one: OpenMP spin-waits under contention.
    threads: int = Field(1, ge=1, le=64)
    risk_bands: RiskBands = RiskBands()
    drift: DriftConfig = DriftConfig()
    importance: ImportanceConfig = ImportanceConfig()
    purchase_model: PurchaseModelConfig = PurchaseModelConfig()
    short_history: ShortHistoryConfig = ShortHistoryConfig()


def load_config_file(path: str | Path | None, default_name: str, model: type[M]) -> M:
    """Read and validate a YAML file into `model` (default: `<CDP_CONFIG_DIR>/<default_name>`).

    A missing default file yields the built-in defaults; a missing explicit path is an error.
    Every error is a :class:`cdp.config.ConfigError` naming the file and the field.
    """
    explicit = path is not None
    path = Path(path) if explicit else get_settings().config_dir / default_name
    if not explicit and not path.exists():
        return model()
    return load_yaml_model(path, model)


def load_churn_config(path: str | Path | None = None) -> ChurnConfig:
    """Read and validate `churn.yaml` (default: `<CDP_CONFIG_DIR>/churn.yaml`)."""
    return load_config_file(path, "churn.yaml", ChurnConfig)
