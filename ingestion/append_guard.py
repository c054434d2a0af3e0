"""Appended raw tables hold each row once, whatever happened to the loads before.

dlt appends at least once. A load job whose INSERT committed just before the process died is
run again when its package is resumed (the rows twice, with the same `_dlt_id`); the rows of a
package that failed and was aborted stay in the table although the package never reached
`_dlt_loads` and the next run reads its files again (dlt's maintainers call such rows invalid:
dlt-hub/dlt#4052). Merged tables are immune: their rows reach the table in one final
delete/insert. The appended tables of a source — its `append_only` tables (and their child
tables), `rejected_rows`, and any table on its first load, which is appended when its keys do
not repeat (`_common.first_load_hints`) — are kept so by two steps around each run:

- before a run with no package pending, rows whose `_dlt_load_id` is not a completed load
  are deleted: what an aborted or lost package left;
- after a run that resumed pending packages, the second copy of a row (the same `_dlt_id`
  in one of those loads) is deleted.

Both use their own DuckDB connection, opened while dlt holds none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from cdp.warehouse import connect as duckdb_connect

logger = logging.getLogger("ingestion")


def appended_tables(source: str) -> list[str]:
    """The tables of `source` that dlt appends to (some or every run): `rejected_rows`, the
    `append_only` tables, and every table on its first load (`first_load_hints`)."""
    from ingestion.sources._common import REJECTED_TABLE  # imports dlt: only when loading
    from ingestion.sources.specs import raw_tables

    return [REJECTED_TABLE, *raw_tables(source)]


def _existing(con: duckdb.DuckDBPyConnection, dataset: str, tables: list[str]) -> list[str]:
    found = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [dataset]
        ).fetchall()
    }
    return [t for t in tables if t in found]


def _delete_where(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    tables: list[str],
    where: str,
    params: list[Any] | None = None,
) -> dict[str, int]:
    """Run `delete ... where <where>` on each existing table (`{table}` in `where` names it);
    rows deleted per table, tables with none left out."""
    deleted: dict[str, int] = {}
    for table in _existing(con, dataset, tables):
        name = f'"{dataset}"."{table}"'
        (rows,) = con.execute(
            f"delete from {name} where " + where.format(table=name), params or []
        ).fetchone()
        if rows:
            deleted[table] = int(rows)
    return deleted


def drop_unfinished(warehouse: Path, dataset: str, tables: list[str]) -> dict[str, int]:
    """Delete the rows of loads that never completed; rows deleted per table."""
    if not Path(warehouse).exists():
        return {}
    with duckdb_connect(str(warehouse)) as con:
        if not _existing(con, dataset, ["_dlt_loads"]):
            return {}  # nothing was ever loaded
        deleted = _delete_where(
            con,
            dataset,
            tables,
            f'_dlt_load_id not in (select load_id from "{dataset}"._dlt_loads where status = 0)',
        )
    if deleted:
        logger.warning("%s: rows of unfinished loads deleted: %s", dataset, deleted)
    return deleted


def drop_repeated(
    warehouse: Path, dataset: str, tables: list[str], load_ids: list[str]
) -> dict[str, int]:
    """Delete the second copy of each row of `load_ids` (a job run again on resume)."""
    with duckdb_connect(str(warehouse)) as con:
        deleted = _delete_where(
            con,
            dataset,
            tables,
            "rowid in (select rowid from (select rowid, row_number() over "
            "(partition by _dlt_id order by rowid) as copy from {table} "
            "where _dlt_load_id in (select unnest(?::varchar[]))) where copy > 1)",
            [load_ids],
        )
    if deleted:
        logger.warning("%s: rows loaded twice by a resumed load deleted: %s", dataset, deleted)
    return deleted


def pending_loads(pipeline: Any) -> list[str]:
    """Load ids of the packages the next run of `pipeline` resumes."""
    return [*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()]


@contextmanager
def exactly_once(pipeline: Any, source: str, warehouse: Path) -> Iterator[None]:
    """Around one run of `pipeline`: no row of an appended table is left twice or orphaned."""
    dataset, tables = pipeline.dataset_name, appended_tables(source)
    pending = pending_loads(pipeline)
    if not pending:
        drop_unfinished(warehouse, dataset, tables)
    yield
    if pending:
        drop_repeated(warehouse, dataset, tables, pending)
