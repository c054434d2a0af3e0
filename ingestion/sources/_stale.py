"""Key-based dedupe across loads: a late file never replaces a newer version of a record.

dlt merges on the primary key and the row of the latest load wins; `dedup_sort` orders the
versions of one load only. A file dropped late (an old monthly export re-sent, a backfill, a
corrected January file after February was loaded) would then put back an older version of
every key it repeats. Before a file's rows are handed to dlt, the versions already in the
warehouse are looked up by key: a row whose cursor (`updated_at`) is strictly older than the
loaded one is left out (an equal cursor loads: a re-export of the same version, or a
correction that kept its time). Rows without a cursor on either side load, as before. The
child tables (`<parent>__<field>`) leave out the items of the parents left out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import dlt
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.warehouse import connect as duckdb_connect

logger = logging.getLogger("ingestion")

_INCOMING = "_cdp_incoming_versions"
_LOADED = "_cdp_loaded_versions"


class LoadedVersions:
    """The loaded versions (key, cursor) of one raw table, read from the warehouse once per
    resource run, on the first file that needs them, then compared with each file's rows in
    an in-memory DuckDB: one warehouse query per table and run, not one per file (a
    warehouse session costs about 0.1 s, so thousands of late files cost minutes;
    `scripts/late_file_benchmark.py`). The memory held is the key and cursor columns of the
    table. Rows loaded earlier in the same run are not in it, as before: inside one load,
    dlt's `dedup_sort` keeps the newest version."""

    def __init__(self, table_name: str, keys: Sequence[str], cursor: str) -> None:
        self.table_name, self.keys, self.cursor = table_name, list(keys), cursor
        self._con: duckdb.DuckDBPyConnection | None = None
        self._empty = False

    def _local(self) -> duckdb.DuckDBPyConnection | None:
        """The in-memory connection holding the loaded versions (None: nothing loaded yet)."""
        if self._con is None and not self._empty:
            columns = ", ".join(f'"{c}"' for c in [*self.keys, self.cursor])
            with dlt.current.pipeline().sql_client() as client:
                target = client.make_qualified_table_name(self.table_name)
                try:
                    loaded = client.native_connection.sql(
                        f'SELECT {columns} FROM {target} WHERE "{self.cursor}" IS NOT NULL'
                    ).to_arrow_table()
                except duckdb.CatalogException:
                    loaded = None  # first load of the table: nothing to compare with
            if loaded is None or not loaded.num_rows:
                self._empty = True
                return None
            self._con = duckdb_connect()
            self._con.register(_LOADED, loaded)
        return self._con

    def older(self, table: pa.Table) -> np.ndarray:
        """Mask of the rows of `table` older, by the cursor, than their key's loaded version."""
        older = np.zeros(table.num_rows, dtype=bool)
        if not table.num_rows or self.cursor not in table.column_names:
            return older
        con = self._local()
        if con is None:
            return older
        incoming = table.select([*self.keys, self.cursor]).append_column(
            "__row", pa.array(np.arange(table.num_rows, dtype=np.int64))
        )
        on = " AND ".join(f'i."{k}" = d."{k}"' for k in self.keys)
        con.register(_INCOMING, incoming)
        try:
            rows = con.execute(
                f"SELECT i.__row FROM {_INCOMING} i JOIN {_LOADED} d ON {on} "
                f'WHERE d."{self.cursor}" > i."{self.cursor}"'
            ).fetchall()
        finally:
            con.unregister(_INCOMING)
        older[[r for (r,) in rows]] = True
        return older


def keep_newer(versions: LoadedVersions, table: pa.Table, source_file: str) -> pa.Table:
    """`table` without the rows older than their key's loaded version."""
    older = versions.older(table)
    if not older.any():
        return table
    logger.info(
        "%s: %s: %d row(s) older than the version already loaded left out",
        versions.table_name,
        source_file,
        int(older.sum()),
    )
    return table.filter(pa.array(~older))


def items_of_newer(
    items: pa.Table, parent_key: str, parents: pa.Table, versions: LoadedVersions
) -> pa.Table:
    """Child rows (`items`) without those whose parent is older than its loaded version
    (`versions`: the parent table's, keyed by its one primary key)."""
    older = versions.older(parents)
    if not older.any():
        return items
    old_keys = pc.unique(parents.filter(pa.array(older))[versions.keys[0]])
    return items.filter(pc.invert(pc.is_in(items[parent_key], value_set=old_keys)))
