"""Orchestration domain: ml (churn model, scores, drift check)."""

import dagster as dg

from orchestration.ml.assets import churn_model, churn_scores
from orchestration.ml.checks import churn_drift
from orchestration.shared.resources import warehouse_resource

defs = dg.Definitions(
    assets=[churn_model, churn_scores],
    asset_checks=[churn_drift],
    resources={"warehouse": warehouse_resource},
)
