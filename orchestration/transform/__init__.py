"""Orchestration domain: transform (dbt models, identity resolution, match quality, dbt source
freshness checks on the raw assets)."""

import dagster as dg

from orchestration.shared.resources import warehouse_resource
from orchestration.transform.assets import (
    dbt_models,
    identity_graph,
    match_quality,
    source_keys,
    translator,
)
from orchestration.transform.freshness import build_source_freshness_checks
from orchestration.transform.resources import dbt_project, dbt_resource

source_freshness = build_source_freshness_checks(dbt_project.manifest_path, translator)

# The models that read the ML scores (customer_profiles) wait for the ML domain: not this job's.
transform_job = dg.define_asset_job(
    "transform_job",
    selection=dg.AssetSelection.assets(dbt_models, identity_graph)
    - dg.AssetSelection.assets(*source_keys("ml")).downstream(),
    description="dbt staging and intermediate, identity resolution, then golden record and marts.",
)

defs = dg.Definitions(
    assets=[dbt_models, identity_graph],
    asset_checks=[match_quality, source_freshness],
    jobs=[transform_job],
    resources={"dbt": dbt_resource, "warehouse": warehouse_resource},
)
