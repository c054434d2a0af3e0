"""Resources of the ingestion domain: the dlt runner and the DuckDB warehouse.

Paths come from the environment through `cdp.settings` (CDP_WAREHOUSE, CDP_LANDING_DIR, ...).
The `warehouse` instance below is the one the whole code location binds (Definitions.merge
requires one object per resource key); other domains declare it as a parameter only.
"""

from __future__ import annotations

from dagster_dlt import DagsterDltResource

from cdp.settings import get_settings
from orchestration.shared.resources import WarehouseResource

dlt_resource = DagsterDltResource()
warehouse_resource = WarehouseResource(path=str(get_settings().warehouse))

RESOURCES = {"dlt": dlt_resource, "warehouse": warehouse_resource}
