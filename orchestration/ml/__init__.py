"""Orchestration domain: ml (churn, propensity, lead and recommendation models, scores,
drift checks).

The `warehouse` resource is bound once for the whole code location (see
`orchestration/definitions.py`); binding it here too would clash in `Definitions.merge`.
"""

import dagster as dg

from orchestration.ml.assets import churn_model, churn_scores
from orchestration.ml.checks import churn_drift, purchase_scores_drift
from orchestration.ml.prediction_assets import ASSETS

defs = dg.Definitions(
    assets=[churn_model, churn_scores, *ASSETS], asset_checks=[churn_drift, purchase_scores_drift]
)
