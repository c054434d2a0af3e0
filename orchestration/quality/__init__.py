"""Orchestration domain: quality.

- one `quality_suite` asset check per raw table and mart that exists in the code location
  (built from `data_quality.suites`; blocking for the assets listed under `blocking_assets`
  in config/quality.yaml);
- the asset `["quality", "quarantine_rows"]`, downstream of the raw assets (the staging
  models read it through the dbt source `quality.quarantine_rows`);
- a blocking `amount_outliers` check on the staging models of orders and receipts.

Only assets defined by the other domains get checks (a check on an asset nobody defines would
show up as a phantom external asset). The `warehouse` resource is bound once for the whole
code location (orchestration/definitions.py); this domain binds `quality_gx` (Great
Expectations for the checks of a run, Data Docs built once per run).
"""

from __future__ import annotations

import importlib
import logging

import dagster as dg

from orchestration.quality.amount_checks import build_amount_checks
from orchestration.quality.assets import build_quarantine_asset
from orchestration.quality.checks import RESOURCE_KEY, QualityGXResource, build_suite_checks

log = logging.getLogger(__name__)

# Domains whose assets the quality checks target (raw tables: ingestion; marts: transform).
SOURCE_DOMAINS = ("orchestration.ingestion", "orchestration.transform")


def present_asset_keys(domains: tuple[str, ...] = SOURCE_DOMAINS) -> set[dg.AssetKey]:
    keys: set[dg.AssetKey] = set()
    for name in domains:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # a domain not in this checkout
            log.warning("quality: cannot import %s (%s); no checks for its assets", name, exc)
            continue
        defs = getattr(module, "defs", None)
        for item in (getattr(defs, "assets", None) or []) if defs is not None else []:
            if isinstance(item, dg.AssetsDefinition):
                keys.update(item.keys)
            elif isinstance(item, dg.AssetSpec | dg.SourceAsset):
                keys.add(item.key)
    return keys


def build_defs(present: set[dg.AssetKey]) -> dg.Definitions:
    raw_keys = [k for k in present if k.path and k.path[0].startswith("raw_")]
    return dg.Definitions(
        assets=[build_quarantine_asset(raw_keys)],
        asset_checks=[*build_suite_checks(present), *build_amount_checks(present)],
        resources={RESOURCE_KEY: QualityGXResource()},
    )


defs = build_defs(present_asset_keys())
