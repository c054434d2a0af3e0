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

logger = logging.getLogger("ingestion")

_INCOMING = "_cdp_incoming_versions"


def older_than_loaded(
    table_name: str, table: pa.Table, keys: Sequence[str], cursor: str
) -> np.ndarray:
    """Mask of the rows of `table` older, by `cursor`, than their key's loaded version."""
    older = np.zeros(table.num_rows, dtype=bool)
    if not table.num_rows or cursor not in table.column_names:
        return older
    pipeline = dlt.current.pipeline()
    incoming = table.select([*keys, cursor]).append_column(
        "__row", pa.array(np.arange(table.num_rows, dtype=np.int64))
    )
    with pipeline.sql_client() as client:
        target = client.make_qualified_table_name(table_name)
        con = client.native_connection
        on = " AND ".join(f'i."{k}" = d."{k}"' for k in keys)
        con.register(_INCOMING, incoming)
        try:
            rows = con.execute(
                f"SELECT i.__row FROM {_INCOMING} i JOIN {target} d ON {on} "
                f'WHERE d."{cursor}" > i."{cursor}"'
            ).fetchall()
        except duckdb.CatalogException:
            rows = []  # first load of the table: nothing to compare with
        finally:
            con.unregister(_INCOMING)
    older[[r for (r,) in rows]] = True
    return older


def keep_newer(
    table_name: str, table: pa.Table, keys: Sequence[str], cursor: str, source_file: str
) -> pa.Table:
    """`table` without the rows older than their key's loaded version."""
    older = older_than_loaded(table_name, table, keys, cursor)
    if not older.any():
        return table
    logger.info(
        "%s: %s: %d row(s) older than the version already loaded left out",
        table_name,
        source_file,
        int(older.sum()),
    )
    return table.filter(pa.array(~older))


def items_of_newer(
    items: pa.Table, parent_key: str, parent_name: str, parents: pa.Table, key: str, cursor: str
) -> pa.Table:
    """Child rows (`items`) without those whose parent is older than its loaded version."""
    older = older_than_loaded(parent_name, parents, [key], cursor)
    if not older.any():
        return items
    old_keys = pc.unique(parents.filter(pa.array(older))[key])
    return items.filter(pc.invert(pc.is_in(items[parent_key], value_set=old_keys)))
