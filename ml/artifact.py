"""Versioned churn model artifacts: `<models_dir>/churn/<version>/{model.joblib,model_card.json}`.

`<models_dir>/churn/LATEST` holds the version written last. The version is derived from the
as-of date, the data fingerprint, the configuration and the scikit-learn version, so the same
inputs give the same version.

A joblib file runs code when it is loaded, so it is only loaded when its SHA-256 matches the
one recorded at save time (in the card and in `LATEST`), and a version name must look like
one (no path in it): a file swapped or a `LATEST` pointing elsewhere is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import joblib
import pandas as pd
import sklearn

from ml.config import ChurnConfig
from ml.glm import GLM_INPUTS, GLM_NAME
from ml.model import Backtest, Evaluation, TrainedChurnModel

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class ArtifactError(ValueError):
    """A model artifact that must not be loaded (bad version name, digest mismatch)."""


def _checked_version(version: str) -> str:
    if not _VERSION.fullmatch(version) or ".." in version:
        raise ArtifactError(f"not a model version name: {version[:40]!r}")
    return version


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _features(trained: TrainedChurnModel) -> list[str]:
    """The inputs of the chosen scorer (none for a label-free model)."""
    if trained.chosen == GLM_NAME:
        return list(GLM_INPUTS)
    return trained.feature_names if trained.model else []


def build_card(
    version: str, trained: TrainedChurnModel, backtest: Backtest, data_hash: str, cfg: ChurnConfig
) -> dict:
    """The JSON model card: data window, plan, candidates and their validation, the chosen
    scorer, purchase-model parameters, back-test metrics next to the baselines."""
    plan = trained.plan
    importances = backtest.importances
    card = {
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
            f"{trained.chosen} predicts {trained.label_horizon_days} days; "
            f"{trained.label_free} supplies the ratio to {trained.horizon_days} days"
            if trained.chosen in ("model", GLM_NAME)
            and trained.label_horizon_days < trained.horizon_days
            else None
        ),
        "training_rows": trained.n_training_rows,
        "training_churn_rate": trained.training_churn_rate,
        "features": _features(trained),
        "purchase_models": trained.purchase_fit.card(),
        "value": {
            "horizon_days": cfg.purchase_model.value_horizon_days,
            "model": f"{trained.value_model} expected orders x Gamma-Gamma expected value",
        },
        "drift_reference_cutoff": (
            trained.reference_cutoff.isoformat() if trained.reference_cutoff else None
        ),
        "data_hash": data_hash,
        "config": cfg.model_dump(mode="json"),
        "backtest": _evaluation_record(backtest.evaluation, backtest.model),
        "feature_importance": None if importances is None else _records(importances),
        "per_person_reasons": None,
    }
    if backtest.note:
        card["backtest_note"] = backtest.note
    return card


def save_artifact(models_dir: Path, version: str, trained: TrainedChurnModel, card: dict) -> Path:
    return save_named(models_dir, "churn", version, trained, card)


def load_artifact(models_dir: Path, version: str | None = None) -> tuple[TrainedChurnModel, dict]:
    return load_named(models_dir, "churn", version)


def save_named(models_dir: Path, name: str, version: str, model: object, card: dict) -> Path:
    """Write model and card into `<models_dir>/<name>/<version>/` and point LATEST at it,
    recording the model file's SHA-256 in the card and in LATEST."""
    root = Path(models_dir) / name
    target = root / _checked_version(version)
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, target / MODEL_FILE)
    digest = _sha256(target / MODEL_FILE)
    _write_card(target, {**card, "artifact_sha256": digest})
    _point_latest(root, version, digest)
    return target


def _write_card(target: Path, card: dict) -> None:
    (target / CARD_FILE).write_text(json.dumps(card, indent=2, default=str) + "\n")


def _point_latest(root: Path, version: str, digest: str) -> None:
    """LATEST names ``version`` and its model's SHA-256 (written aside, then renamed)."""
    tmp = root / "LATEST.tmp"
    tmp.write_text(json.dumps({"version": version, "sha256": digest}) + "\n")
    os.replace(tmp, root / "LATEST")


def rewrite_named(models_dir: Path, name: str, version: str, model: object, note: str) -> None:
    """Replace the model of an existing version (erasure rewrote it): new SHA-256 in its card,
    with ``note`` in its ``rewritten`` list, and in LATEST when LATEST names this version."""
    root = Path(models_dir) / name
    target = root / _checked_version(version)
    card = json.loads((target / CARD_FILE).read_text())
    tmp = target / (MODEL_FILE + ".tmp")
    joblib.dump(model, tmp)
    digest = _sha256(tmp)
    card = {**card, "artifact_sha256": digest, "rewritten": [*card.get("rewritten", []), note]}
    os.replace(tmp, target / MODEL_FILE)
    _write_card(target, card)
    latest = root / "LATEST"
    if latest.exists() and json.loads(latest.read_text()).get("version") == version:
        _point_latest(root, version, digest)


def _latest(root: Path, name: str) -> tuple[str, str]:
    """`(version, sha256)` of the LATEST pointer under `root`."""
    latest = root / "LATEST"
    if not latest.exists():
        raise FileNotFoundError(f"{latest}: no {name} model has been trained yet")
    try:
        pointer = json.loads(latest.read_text())
        return str(pointer["version"]), str(pointer["sha256"])
    except (ValueError, KeyError, TypeError):
        raise ArtifactError(f"{latest}: not a model pointer written by this version") from None


def latest_card(models_dir: Path, name: str) -> tuple[Path, dict]:
    """The directory and card of the LATEST version, without loading the model (the run that
    scores with it checks the model's SHA-256); the card must record LATEST's digest."""
    root = Path(models_dir) / name
    version, expected = _latest(root, name)
    target = root / _checked_version(version)
    card = json.loads((target / CARD_FILE).read_text())
    if card.get("artifact_sha256") != expected or not (target / MODEL_FILE).exists():
        raise ArtifactError(f"{target}: card or model does not match LATEST")
    return target, card


def load_named(models_dir: Path, name: str, version: str | None = None) -> tuple[object, dict]:
    """The model of `version` (default: LATEST), after its SHA-256 is checked."""
    root = Path(models_dir) / name
    expected = None
    if version is None:
        version, expected = _latest(root, name)
    target = root / _checked_version(version)
    card = json.loads((target / CARD_FILE).read_text())
    recorded = card.get("artifact_sha256")
    actual = _sha256(target / MODEL_FILE)
    if not recorded or actual != recorded or (expected is not None and actual != expected):
        raise ArtifactError(f"{target / MODEL_FILE}: SHA-256 differs from the one recorded at save")
    return joblib.load(target / MODEL_FILE), card
