"""Orchestration domain: ml (churn model, scores, drift check).

The `warehouse` resource is bound once for the whole code location (see
`orchestration/definitions.py`); binding it here too would clash in `Definitions.merge`.
"""

import dagster as dg

from orchestration.ml.assets import churn_model, churn_scores
from orchestration.ml.checks import churn_drift

defs = dg.Definitions(assets=[churn_model, churn_scores], asset_checks=[churn_drift])
