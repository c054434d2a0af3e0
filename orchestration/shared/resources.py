"""The warehouse resource every domain uses to reach the embedded DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from cdp.settings import get_settings
from cdp.warehouse import connect


class WarehouseResource(dg.ConfigurableResource):
    """Path of the DuckDB warehouse.

    Empty (the default) means `CDP_WAREHOUSE` or `<CDP_DATA_DIR>/warehouse.duckdb`, read when a
    run uses the resource, not when this module is imported. A run that uses it holds the
    warehouse's writer lock (cdp.warehouse_lock) from its first step to its end, so two
    runs never write the one DuckDB file at once: the second waits.
    """

    path: str = ""

    @property
    def location(self) -> str:
        return self.path or str(get_settings().warehouse)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from cdp import warehouse_lock as lock

        def waiting(pid: str) -> None:
            if context.log:
                context.log.info(f"waiting for the warehouse: pid {pid} is writing it")

        lock.acquire(self.location, on_wait=waiting)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        from cdp import warehouse_lock as lock

        lock.release(self.location)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.location).parent.mkdir(parents=True, exist_ok=True)
        con = connect(self.location, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


# The one instance every domain binds: Definitions.merge accepts a resource key bound in several
# domains only when it is the same object, and each domain's Definitions must load on its own.
warehouse_resource = WarehouseResource()
