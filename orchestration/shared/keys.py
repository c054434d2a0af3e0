"""Asset keys one domain needs of another's assets, derived from the declarations they come from.

- raw tables: `[raw_<source>, <table>]` for every table the enabled dlt sources of
  config/sources.yaml declare (the keys the ingestion domain's translator gives them);
- dbt models: `orchestration.shared.dbt.dbt_model_key(name)`, from the manifest;
- Python assets read across domains: their key, declared here once.

A domain reads these instead of importing another domain, so each loads on its own.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from cdp.settings import get_settings

# Written by the ml domain (table ml.churn_scores), read by activation's segments and syncs.
CHURN_SCORES = dg.AssetKey(["ml", "churn_scores"])
PURCHASE_SCORES = dg.AssetKey(["ml", "purchase_scores"])
# A run tagged so (`cdp run --full-refresh`, or the tag set on a launch in the UI) rebuilds the
# incremental dbt models in full (transform) and trains every model again, whatever its
# retraining cadence (ml); otherwise each takes only what changed or is due.
FULL_REFRESH_TAG = "cdp/dbt_full_refresh"


def raw_table_key(dataset: str, resource: Any) -> dg.AssetKey:
    """The key of the raw table a dlt resource loads: `[dataset, table]`, as in the warehouse
    (`raw_shop.orders`)."""
    table = resource.table_name if isinstance(resource.table_name, str) else resource.name
    return dg.AssetKey([dataset, table])


def raw_asset_keys() -> set[dg.AssetKey]:
    """The raw tables the enabled sources declare (child tables such as `orders__items` too)."""
    from ingestion.config import load_sources_config
    from ingestion.pipeline import dataset_name, make_source

    settings = get_settings()
    config = load_sources_config(settings.config_dir / "sources.yaml")
    return {
        raw_table_key(dataset_name(source), resource)
        for source in config.enabled_sources()
        for resource in make_source(source, settings, config).selected_resources.values()
    }
