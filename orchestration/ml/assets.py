"""Churn assets: `["ml", "churn_model"]` (backtest + versioned artifact) and
`["ml", "churn_scores"]` (scores and scoring features in the warehouse)."""

import dagster as dg

from orchestration.ml.cadence import model_result
from orchestration.ml.inputs import ML_INPUTS, ml_asset, model_inputs
from orchestration.shared.keys import CHURN_SCORES
from orchestration.shared.resources import WarehouseResource

CHURN_MODEL = dg.AssetKey(["ml", "churn_model"])


def _importance_markdown(importances) -> str:
    lines = ["| feature | drop in ROC AUC (mean) | std |", "|---|---|---|"]
    for row in importances.itertuples(index=False):
        lines.append(f"| {row.feature} | {row.importance_mean:.4f} | {row.importance_std:.4f} |")
    return "\n".join(lines)


@ml_asset(
    key=CHURN_MODEL,
    deps=[ML_INPUTS],
    description=(
        "Trains the churn and value models as of the latest order date: gradient boosting on "
        "SQL + BG/NBD features, or the label-free BG/NBD / Pareto/NBD model, chosen by a "
        "time-based validation inside the history; Gamma-Gamma spend model for expected "
        "revenue. A back-test at (latest date - horizon) compares it with the recency, RFM, "
        "BG/NBD and Pareto/NBD baselines; writes model + JSON card under "
        "<models_dir>/churn/<version>/. Trained only when due (retrain_after_days in "
        "churn.yaml, a changed config, a full-refresh run); otherwise the newest artefact is "
        "reused and its card shown."
    ),
)
def churn_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from cdp.settings import get_settings
    from ml.config import load_churn_config
    from ml.inputs import CHURN_INPUTS
    from ml.scoring import train_and_save

    cfg = load_churn_config()

    def train():
        with model_inputs(context, warehouse, CHURN_INPUTS) as (_con, data):
            return train_and_save(data.base, cfg, get_settings().models_dir)

    return model_result(context, "churn", cfg, train, _churn_metadata)


def _churn_metadata(run) -> dict[str, dg.MetadataValue]:
    """The metadata of a churn artefact, from its card (a run just trained or one reused)."""
    import pandas as pd

    from ml.metrics import calibration_markdown, metrics_markdown, value_markdown

    card = run.card
    metadata: dict[str, dg.MetadataValue] = {
        "model_version": dg.MetadataValue.text(run.version),
        "artifact_path": dg.MetadataValue.path(str(run.path)),
        "training_cutoffs": dg.MetadataValue.json(card["training_cutoffs"]),
        "training_rows": dg.MetadataValue.int(card["training_rows"]),
        "horizon_days": dg.MetadataValue.int(card["horizon_days"]),
        "label_horizon_days": dg.MetadataValue.int(card["label_horizon_days"]),
        "training_plan": dg.MetadataValue.text(card["training_plan"]),
        "chosen": dg.MetadataValue.text(card["chosen"]),
        "validation": dg.MetadataValue.json(card["validation"]),
        "purchase_models": dg.MetadataValue.json(card["purchase_models"]),
        "features": dg.MetadataValue.json(card["features"]),
        "data_hash": dg.MetadataValue.text(card["data_hash"]),
    }
    backtest = card.get("backtest")
    if backtest is not None:
        metrics = backtest["metrics"]
        metadata["evaluation_cutoff"] = dg.MetadataValue.text(backtest["evaluation_cutoff"])
        metadata["metrics"] = dg.MetadataValue.md(metrics_markdown(metrics))
        metadata["metrics_json"] = dg.MetadataValue.json(metrics)
        metadata["calibration"] = dg.MetadataValue.md(
            calibration_markdown({k: pd.DataFrame(v) for k, v in backtest["calibration"].items()})
        )
        metadata["roc_auc"] = dg.MetadataValue.float(metrics["model"]["roc_auc"])
        metadata["brier"] = dg.MetadataValue.float(metrics["model"]["brier"])
        value = backtest["value_metrics"]
        if value:
            metadata["value_metrics"] = dg.MetadataValue.md(value_markdown(value))
            metadata["value_metrics_json"] = dg.MetadataValue.json(value)
            metadata["value_spearman"] = dg.MetadataValue.float(value["model"]["spearman"])
    else:
        metadata["backtest_note"] = dg.MetadataValue.text(
            card.get("backtest_note") or "no backtest"
        )
    if card.get("feature_importance"):
        importances = pd.DataFrame(card["feature_importance"])
        metadata["feature_importance"] = dg.MetadataValue.md(_importance_markdown(importances))
        metadata["feature_importance_json"] = dg.MetadataValue.json(card["feature_importance"])
    return metadata


@ml_asset(
    key=CHURN_SCORES,
    deps=[ML_INPUTS, CHURN_MODEL],
    description=(
        "Churn probability, risk band, expected orders and revenue over the value horizon for "
        "every person with a purchase on or before the latest order date (ml.churn_scores, "
        "with the model version), and the scoring features (ml.churn_features)."
    ),
)
def churn_scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from cdp.settings import get_settings
    from ml.artifact import load_artifact
    from ml.config import load_churn_config
    from ml.inputs import CHURN_INPUTS
    from ml.scoring import score_and_write

    cfg = load_churn_config()
    trained, card = load_artifact(get_settings().models_dir)
    with model_inputs(context, warehouse, CHURN_INPUTS) as (con, data):
        scores, _features, drift = score_and_write(data.base, trained, card["version"], cfg, con)
    drifted = drift[drift["drifted"]]
    if len(drifted):
        context.log.warning(
            f"PSI above {cfg.drift.psi_threshold}: "
            + ", ".join(f"{r.column}={r.psi:.3f}" for r in drifted.itertuples())
        )
    bands = (
        scores["churn_risk_band"].value_counts().reindex(["low", "medium", "high"], fill_value=0)
    )
    return dg.MaterializeResult(
        metadata={
            "model_version": dg.MetadataValue.text(card["version"]),
            "scored_persons": dg.MetadataValue.int(len(scores)),
            "mean_churn_probability": dg.MetadataValue.float(
                float(scores["churn_probability"].mean()) if len(scores) else float("nan")
            ),
            "risk_bands": dg.MetadataValue.json({k: int(v) for k, v in bands.items()}),
            "expected_revenue_total": dg.MetadataValue.float(
                float(scores["expected_revenue"].sum()) if len(scores) else 0.0
            ),
            "expected_orders_total": dg.MetadataValue.float(
                float(scores["expected_orders"].sum()) if len(scores) else 0.0
            ),
            "max_psi": dg.MetadataValue.float(
                float(drift.loc[drift["alarm"], "psi"].max()) if drift["alarm"].any() else 0.0
            ),
        }
    )
