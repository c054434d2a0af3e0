"""The data tables of a file source reach dlt as Parquet files written once, imported as they are.

dlt writes the Arrow tables a resource yields into Parquet with fixed settings: a dictionary for
every column until it outgrows 1 MiB and statistics of every column. On the event tables that
writer was a third of the extraction: the dictionaries of the columns unique per row (ids) are
built and thrown away, and the statistics are read by nobody (the load reads every row), and
DuckDB then reads the plain pages of those columns more slowly too. Here the tables of one
resource run are written with pyarrow into one file (a new one when the columns change), with
a dictionary only while it stays small (codes, countries, URLs keep theirs), no statistics,
the columns in the order of dlt's schema and the `_dlt_load_id` dlt would add, and handed to
dlt with `dlt.mark.with_file_import`. The rows, the table schema (inferred from the file's Arrow
schema, with the resource's column hints) and the schema contract are the same; dlt's
normaliser checks each imported file against the schema and rewrites only one that does not
match it. The file is hard-linked into dlt's load package; the name written here is removed
once dlt took it (and a run removes what a killed run left).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.common.schema.utils import dlt_load_id_column

LOAD_ID = "_dlt_load_id"
LOAD_ID_COLUMN = {LOAD_ID: dlt_load_id_column()}

# Dictionary pages up to 64 KiB: a column of a few thousand distinct values keeps its
# dictionary, an id column falls back to plain pages after 64 KiB of ids instead of 1 MiB.
WRITER_OPTIONS: dict[str, Any] = {
    "compression": "snappy",
    "dictionary_pagesize_limit": 64 << 10,
    "write_statistics": False,
}
# Row groups of exactly DuckDB's row group size (the rows of several small files gathered):
# DuckDB's ordered parallel insert then stores each as it comes; a smaller one is merged with
# its neighbours first (about a sixth of the load's CPU time on the web events).
ROW_GROUP_ROWS = 122_880


def _folder() -> Path:
    folder = Path(dlt.current.pipeline().working_dir) / "job_files"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


class JobFiles:
    """The Parquet files of one table in one resource run.

    `add` takes a table and yields the items for dlt: nothing while the columns stay the same,
    the finished file when they change; `close` yields the last file."""

    def __init__(self, table_name: str, key: list[str] | None = None) -> None:
        self.table_name = table_name
        self.key = key  # the primary key, whose values are kept (`keys_read`)
        self._keys: list[pa.Table] | None = [] if key else None
        self.files_out = 0  # files handed to dlt so far
        self.folder = _folder()
        for stale in self.folder.glob(f"{table_name}.*.parquet"):  # a killed run's files
            stale.unlink()
        self.load_id = dlt.current.load_package_state()["load_id"]
        self._writer: pq.ParquetWriter | None = None
        self._path: Path | None = None
        self._rows = 0  # rows written to the current file
        self._pending: list[pa.Table] = []  # rows not yet making a full row group
        self._pending_rows = 0

    def _schema_order(self, table: pa.Table) -> pa.Table:
        """Columns in the order of dlt's schema (so the normaliser imports the file as is),
        new columns last; all-null columns dropped, as dlt's extractor drops them."""
        table = table.select([f.name for f in table.schema if not pa.types.is_null(f.type)])
        known = dlt.current.source_schema().tables.get(self.table_name, {}).get("columns", {})
        names = [n for n in known if n in table.column_names]
        names += [n for n in table.column_names if n not in known]
        return table.select(names)

    def add(self, table: pa.Table) -> Iterator[Any]:
        """Take `table` (written once a row group is full); yields the finished file for dlt
        when the columns change."""
        if LOAD_ID not in table.column_names:
            load_ids = pa.repeat(pa.scalar(self.load_id, pa.string()), table.num_rows)
            table = table.append_column(pa.field(LOAD_ID, pa.string(), nullable=False), load_ids)
        if self._keys is not None and self.key is not None:
            if all(k in table.column_names for k in self.key):
                self._keys.append(table.select(self.key))
            else:
                self._keys = None
        table = self._schema_order(table)
        if self._pending and not self._pending[0].schema.equals(table.schema):
            yield from self.close()
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._write(full_groups_only=True)

    def _write(self, full_groups_only: bool) -> None:
        """Write the pending rows (all, or the full row groups and keep the rest)."""
        pending = pa.concat_tables(self._pending)
        rows = pending.num_rows - pending.num_rows % ROW_GROUP_ROWS if full_groups_only else None
        if self._writer is None:
            self._path = self.folder / f"{self.table_name}.{secrets.token_hex(8)}.parquet"
            self._writer = pq.ParquetWriter(self._path, pending.schema, **WRITER_OPTIONS)
        self._writer.write_table(pending.slice(0, rows), row_group_size=ROW_GROUP_ROWS)
        rest = pending.slice(rows) if rows is not None else pending.slice(0, 0)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows
        self._rows += pending.num_rows - rest.num_rows

    def close(self) -> Iterator[Any]:
        """The file written so far, for dlt to import; its name here goes once dlt took it."""
        if self._pending:
            self._write(full_groups_only=False)
        if self._writer is None or self._path is None:
            return
        schema = self._writer.schema
        self._writer.close()
        path, rows = self._path, self._rows
        self._writer, self._path, self._rows = None, None, 0
        self.files_out += 1
        try:
            yield dlt.mark.with_file_import(str(path), "parquet", rows, hints=schema.empty_table())
        finally:
            path.unlink(missing_ok=True)

    def keys_read(self) -> pa.Table | None:
        """The key values of every row added (None when not kept or a table lacked one)."""
        if self._keys is None:
            return None
        try:
            return pa.concat_tables(self._keys, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None

    def discard(self) -> None:
        """Drop an unfinished file (the run failed or was closed before its end)."""
        if self._writer is not None:
            self._writer.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._writer, self._path, self._rows = None, None, 0
        self._pending, self._pending_rows = [], 0
