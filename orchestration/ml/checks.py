"""Drift check on the churn scores: PSI of each scoring feature and of the score against the
training distribution saved with the model."""

import dagster as dg

from orchestration.shared.keys import CHURN_SCORES
from orchestration.shared.resources import WarehouseResource


@dg.asset_check(
    asset=CHURN_SCORES,
    description=(
        "Population stability index per feature and for the score against the latest training "
        "cutoff (WARN past threshold; columns of drift.exclude are reported, never alarmed)."
    ),
    blocking=False,
)
def churn_drift(warehouse: WarehouseResource) -> dg.AssetCheckResult:
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
    drifted = report[report["drifted"]]
    table = "\n".join(
        ["| column | PSI | alarms |", "|---|---|---|"]
        + [
            f"| {r.column} | {r.psi:.4f} | {'yes' if r.alarm else 'no (drift.exclude)'} |"
            for r in report.itertuples()
        ]
    )
    return dg.AssetCheckResult(
        passed=drifted.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "model_version": dg.MetadataValue.text(card["version"]),
            "psi_threshold": dg.MetadataValue.float(cfg.drift.psi_threshold),
            "max_psi": dg.MetadataValue.float(
                float(report.loc[report["alarm"], "psi"].max()) if report["alarm"].any() else 0.0
            ),
            "drifted_columns": dg.MetadataValue.json(drifted["column"].tolist()),
            "reference_cutoff": dg.MetadataValue.text(
                str(getattr(trained, "reference_cutoff", None))
            ),
            "excluded_columns": dg.MetadataValue.json(list(cfg.drift.exclude)),
            "psi": dg.MetadataValue.json({r.column: round(r.psi, 6) for r in report.itertuples()}),
            "psi_table": dg.MetadataValue.md(table),
        },
    )
