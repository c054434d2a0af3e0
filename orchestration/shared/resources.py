"""The warehouse resource every domain uses to reach the embedded DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from cdp.settings import get_settings


class WarehouseResource(dg.ConfigurableResource):
    """Path of the DuckDB warehouse.

    Empty (the default) means `CDP_WAREHOUSE` or `<CDP_DATA_DIR>/warehouse.duckdb`, read when a
    run uses the resource, not when this module is imported.
    """

    path: str = ""

    @property
    def location(self) -> str:
        return self.path or str(get_settings().warehouse)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.location).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.location, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


# The one instance every domain binds: Definitions.merge accepts a resource key bound in several
# domains only when it is the same object, and each domain's Definitions must load on its own.
warehouse_resource = WarehouseResource()
