"""Orchestration domain: ml (the models' shared inputs; churn, propensity, lead and
recommendation models, scores, drift checks)."""

import dagster as dg

from orchestration.ml.assets import churn_model, churn_scores
from orchestration.ml.checks import churn_drift, purchase_scores_drift
from orchestration.ml.inputs import ml_inputs
from orchestration.ml.prediction_assets import ASSETS
from orchestration.shared.resources import warehouse_resource

defs = dg.Definitions(
    assets=[ml_inputs, churn_model, churn_scores, *ASSETS],
    asset_checks=[churn_drift, purchase_scores_drift],
    resources={"warehouse": warehouse_resource},
)
