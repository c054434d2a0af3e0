"""Orchestration domain: transform (dbt models, identity resolution, match quality)."""

import dagster as dg

from orchestration.shared.resources import warehouse_resource
from orchestration.transform.assets import dbt_models, identity_graph, match_quality
from orchestration.transform.resources import dbt_resource

transform_job = dg.define_asset_job(
    "transform_job",
    selection=dg.AssetSelection.assets(dbt_models, identity_graph),
    description="dbt staging and intermediate, identity resolution, then golden record and marts.",
)

defs = dg.Definitions(
    assets=[dbt_models, identity_graph],
    asset_checks=[match_quality],
    jobs=[transform_job],
    resources={"dbt": dbt_resource, "warehouse": warehouse_resource},
)
