"""Drift checks on the churn and purchase scores: PSI of each scoring feature and of the score
against the training distribution saved with the model."""

import dagster as dg

from orchestration.ml.prediction_assets import PURCHASE_SCORES
from orchestration.shared.keys import CHURN_SCORES
from orchestration.shared.resources import WarehouseResource


# the docstrings are the checks' descriptions; drift warns, it never blocks
@dg.asset_check(asset=CHURN_SCORES, blocking=False)
def churn_drift(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Population stability index per feature and for the score against the latest training
    cutoff (WARN past threshold; columns of drift.exclude are reported, never alarmed)."""
    from cdp.settings import get_settings
    from ml.artifact import load_artifact
    from ml.config import load_churn_config
    from ml.drift import drift_report
    from ml.scoring import FEATURES_TABLE, SCORES_TABLE

    cfg = load_churn_config()
    trained, card = load_artifact(get_settings().models_dir)
    with warehouse.connect(read_only=True) as con:
        current = con.execute(
            f"""SELECT f.*, s.churn_probability
                FROM {FEATURES_TABLE} f JOIN {SCORES_TABLE} s USING (person_id)"""
        ).df()
    report = drift_report(
        trained.reference, current, cfg.drift.psi_threshold, exclude=cfg.drift.exclude
    )
    report = report.assign(model="churn")
    return _drift_result(
        report,
        {
            "model_version": dg.MetadataValue.text(card["version"]),
            "psi_threshold": dg.MetadataValue.float(cfg.drift.psi_threshold),
            "drifted_columns": dg.MetadataValue.json(
                report.loc[report["drifted"], "column"].tolist()
            ),
            "reference_cutoff": dg.MetadataValue.text(
                str(getattr(trained, "reference_cutoff", None))
            ),
            "excluded_columns": dg.MetadataValue.json(list(cfg.drift.exclude)),
            "psi": dg.MetadataValue.json({r.column: round(r.psi, 6) for r in report.itertuples()}),
        },
    )


def _drift_result(report, metadata: dict) -> dg.AssetCheckResult:
    """WARN when a column drifted; max PSI over alarming columns and the PSI table."""
    table = "\n".join(
        ["| model | column | PSI | alarms |", "|---|---|---|---|"]
        + [
            f"| {r.model} | {r.column} | {r.psi:.4f} | {'yes' if r.alarm else 'no (drift.exclude)'} |"
            for r in report.itertuples()
        ]
    )
    alarm = report["alarm"].astype(bool)
    return dg.AssetCheckResult(
        passed=not report["drifted"].any(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            **metadata,
            "max_psi": dg.MetadataValue.float(
                float(report.loc[alarm, "psi"].max()) if alarm.any() else 0.0
            ),
            "psi_table": dg.MetadataValue.md(table),
        },
    )


@dg.asset_check(asset=PURCHASE_SCORES, blocking=False)
def purchase_scores_drift(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Population stability index of the propensity and lead-scoring features and scores
    against each model's latest training cutoff (WARN past drift.psi_threshold)."""
    from ml.prediction_scoring import PURCHASE_DRIFT

    with warehouse.connect(read_only=True) as con:
        report = con.execute(f"SELECT * FROM {PURCHASE_DRIFT} ORDER BY psi DESC").df()
    drifted = report[report["drifted"]]
    return _drift_result(
        report,
        {
            "model_versions": dg.MetadataValue.json(sorted(report["model_version"].unique())),
            "drifted_columns": dg.MetadataValue.json(
                [f"{r.model}.{r.column}" for r in drifted.itertuples()]
            ),
        },
    )
