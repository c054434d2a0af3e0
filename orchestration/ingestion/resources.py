"""Resources of the ingestion domain: the dlt runner and the DuckDB warehouse.

Paths come from the environment through `cdp.settings` (CDP_WAREHOUSE, CDP_LANDING_DIR, ...).
The `warehouse` instance is the shared one of `orchestration.shared.resources`.
"""

from __future__ import annotations

from dagster_dlt import DagsterDltResource

from orchestration.shared.resources import warehouse_resource

dlt_resource = DagsterDltResource()

RESOURCES = {"dlt": dlt_resource, "warehouse": warehouse_resource}
