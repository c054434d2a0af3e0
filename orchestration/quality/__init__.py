"""Orchestration domain: quality.

- one `quality_suite` asset check per raw table and mart that exists in the code location
  (built from `data_quality.suites`; blocking for the assets listed under `blocking_assets`
  in config/quality.yaml);
- the asset `["quality", "quarantine_rows"]`, downstream of the raw assets (the staging
  models read it through the dbt source `quality.quarantine_rows`);
- a blocking `amount_outliers` check on the staging models of orders and receipts.

The checks target the raw tables the enabled dlt sources declare and the dbt models of the
manifest (orchestration.shared.keys, orchestration.shared.dbt): the domain reads those
declarations instead of importing the ingestion and transform domains, so it loads on its own.
A check on a table nobody defines (a disabled source) would show up as a phantom external
asset, hence the filter. The domain binds `warehouse` (the shared instance) and `quality_gx`
(Great Expectations for the checks of a run, Data Docs built once per run).
"""

from __future__ import annotations

import dagster as dg

from orchestration.quality.amount_checks import build_amount_checks
from orchestration.quality.assets import build_quarantine_asset
from orchestration.quality.checks import RESOURCE_KEY, QualityGXResource, build_suite_checks
from orchestration.shared.dbt import dbt_asset_keys
from orchestration.shared.keys import raw_asset_keys
from orchestration.shared.resources import warehouse_resource


def present_asset_keys() -> set[dg.AssetKey]:
    """Raw tables of the enabled sources and the dbt models: what the checks may target."""
    return raw_asset_keys() | dbt_asset_keys()


def build_defs(present: set[dg.AssetKey]) -> dg.Definitions:
    raw_keys = [k for k in present if k.path and k.path[0].startswith("raw_")]
    return dg.Definitions(
        assets=[build_quarantine_asset(raw_keys)],
        asset_checks=[*build_suite_checks(present), *build_amount_checks(present)],
        resources={RESOURCE_KEY: QualityGXResource(), "warehouse": warehouse_resource},
    )


defs = build_defs(present_asset_keys())
