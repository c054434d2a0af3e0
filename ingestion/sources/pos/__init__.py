"""Point of sale (Retail Pro-like till system): one SQLite database.

Raw tables `raw_pos.stores`, `raw_pos.loyalty_cards`, `raw_pos.receipts`,
`raw_pos.receipt_lines`, read in Arrow batches and merged on the primary keys of
`config/sources.yaml`.

Incremental with a look-back window: each run reads the rows whose cursor (`updated_at`,
normalised by SQLite's `datetime()` so `2025-01-07 10:00:00` and `2025-01-07T10:00:00Z`
compare as times, not as text) is at most `lookback_hours` older than the newest cursor seen
so far, plus every row whose cursor is NULL or not a time. A receipt uploaded late, or written
with another timestamp format, is therefore still read. Rows already loaded in that window are
recognised by key and content and skipped, so a second run loads nothing.

A value whose SQLite storage class does not fit its column (text in a REAL column, a blob in a
TEXT column) rejects its row to `raw_pos.rejected_rows` with the column and the reason; the
other rows load. SQLite lets such values in; the till's own software does not check either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.resource import DltResource

from ingestion.config import TableConfig
from ingestion.sources._common import (
    REJECTED_TABLE,
    SCHEMA_CONTRACT,
    Reject,
    TableSpec,
    first_load_hints,
    logger,
    rejected_hints,
    rejects_table,
    require_keys,
    with_first_hints,
)
from ingestion.sources._job_files import LOAD_ID_COLUMN, JobFiles
from ingestion.sources._row_ids import ROW_ID_COLUMN, add_row_ids, with_row_ids
from privacy.ingest_filter import NO_LINKS, drop_suppressed, drop_suppressed_rejects

TEXT, INTEGER, REAL = pa.string(), pa.int64(), pa.float64()


def _text(*names: str) -> list[tuple[str, pa.DataType]]:
    return [(n, TEXT) for n in names]


# The till database's tables (the demo generator creates them from these specs: string TEXT,
# int64 INTEGER, float64 REAL). Loading reads the columns the database has (SQLite affinity
# gives the Arrow type), so a column the till adds later is loaded too.
TABLES = (
    TableSpec(
        name="stores",
        description="Boutiques, outlets and corners; `generic_email` is the store's own address.",
        schema=pa.schema(
            _text("store_id", "name", "kind", "street", "postcode", "city", "country")
            + _text("opened_on", "generic_email", "updated_at")
        ),
        key=("store_id",),
    ),
    TableSpec(
        name="loyalty_cards",
        description="Store loyalty cards with the holder's details, one row per `card_id`.",
        schema=pa.schema(
            _text("card_id", "store_id", "issued_at", "first_name", "last_name", "email")
            + _text("phone", "birth_date", "street", "postcode", "city", "country", "status")
            + _text("updated_at")
        ),
        key=("card_id",),
        records=(("pos_card", ("card_id",)),),
    ),
    TableSpec(
        name="receipts",
        description="Till receipts (sales and returns), one row per `receipt_id`.",
        schema=pa.schema(
            [
                *_text("receipt_id", "store_id", "register_id", "staff_id", "card_id", "sold_at"),
                ("total_amount", REAL),
                *_text("currency", "payment_method"),
                ("is_return", INTEGER),
                *_text("original_receipt_id", "updated_at"),
            ]
        ),
        key=("receipt_id",),
        records=(("pos_receipt", ("receipt_id",)),),
        # a return names the receipt it returns: it is that receipt's owner's
        references=(("card_id", "pos_card"), ("original_receipt_id", "pos_receipt")),
    ),
    TableSpec(
        name="receipt_lines",
        description="Receipt lines, one row per (`receipt_id`, `line_no`).",
        schema=pa.schema(
            [
                ("receipt_id", TEXT),
                ("line_no", INTEGER),
                ("sku", TEXT),
                ("quantity", INTEGER),
                ("unit_price", REAL),
                ("discount", REAL),
                ("line_amount", REAL),
                ("updated_at", TEXT),
            ]
        ),
        key=("receipt_id", "line_no"),
        references=(("receipt_id", "pos_receipt"),),
    ),
)
DESCRIPTIONS = {spec.name: spec.description for spec in TABLES}
LINKS = {name: links for spec in TABLES for name, links in spec.links("pos").items()}

# SQLite type affinity (https://www.sqlite.org/datatype3.html#determination_of_column_affinity)
# -> the Arrow type loaded and the storage classes a value of that column may have.
_AFFINITY: list[tuple[tuple[str, ...], pa.DataType, str, tuple[str, ...]]] = [
    (("INT",), pa.int64(), "bigint", ("integer", "null")),
    (("CHAR", "CLOB", "TEXT"), pa.string(), "text", ("text", "integer", "real", "null")),
    (("REAL", "FLOA", "DOUB", "NUM", "DEC"), pa.float64(), "double", ("integer", "real", "null")),
]
_ANY = (pa.string(), "text", ("text", "integer", "real", "null"))


def _affinity(declared: str) -> tuple[pa.DataType, str, tuple[str, ...]]:
    upper = declared.upper()
    for needles, arrow_type, dlt_type, allowed in _AFFINITY:
        if any(n in upper for n in needles):
            return arrow_type, dlt_type, allowed
    return _ANY


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(con: sqlite3.Connection, name: str) -> list[tuple[str, str]]:
    rows = con.execute(f"PRAGMA table_info({_q(name)})").fetchall()
    return [(r[1], r[2] or "") for r in rows]


def _stamp(values: tuple[Any, ...]) -> str:
    """Content fingerprint of one row (what 'already loaded' means in the window)."""
    text = json.dumps(values, default=repr, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _lower_bound(cursor_max: str | None, lookback_hours: float) -> str | None:
    if cursor_max is None:
        return None
    newest = dt.datetime.fromisoformat(cursor_max)
    return (newest - dt.timedelta(hours=lookback_hours)).strftime("%Y-%m-%d %H:%M:%S")


_CURSOR, _BAD = "__cdp_cursor", "__cdp_bad"  # the normalised cursor, the misfit flag
#: a first row of each Arrow type: the ADBC driver types a column from its first batch, so
#: a column all NULL there (or empty) would be typed wrong; the row is dropped once read
_SENTINEL = {pa.string(): "''", pa.int64(): "0", pa.float64(): "0.0"}
_SQL_TYPE = {pa.string(): "TEXT", pa.int64(): "INTEGER", pa.float64(): "REAL"}


def _rows_sql(name: str, types: dict[str, Any], cursor_sql: str, checks: str, where: str) -> str:
    """Every row in reach, each value cast to its column's type (an integer in a TEXT column
    is text), with its normalised cursor, whether a value misfits its column (`checks`: the
    row is then rejected, its cast values unused) and its rowid; after one typed sentinel row.
    """
    first = [f"{_SENTINEL[types[c][0]]} AS {_q(c)}" for c in types]
    cols = [f"CAST({_q(c)} AS {_SQL_TYPE[t]})" for c, (t, _, _) in types.items()]
    return (
        f"SELECT {', '.join(first)}, '' AS {_CURSOR}, 0 AS {_BAD}, 0 AS rowid UNION ALL "
        f"SELECT {', '.join(cols)}, {cursor_sql}, ({checks}), rowid FROM {_q(name)} WHERE {where}"
    )


def _read_arrow(database: Path, sql: str, params: list[Any], chunk_size: int) -> Iterator[pa.Table]:
    """The rows of `sql` in Arrow batches of `chunk_size`, read by the ADBC SQLite driver
    (no Python object per value), the sentinel row dropped."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(f"file:{database.as_posix()}?mode=ro") as con, con.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(chunk_size)})
        cur.execute(sql, params or None)
        first = True
        for batch in cur.fetch_record_batch():
            table = pa.Table.from_batches([batch.slice(1) if first else batch])
            first = False
            if table.num_rows:
                yield table


class _Window:
    """The look-back window of one run: the newest cursor seen so far, and the rows an
    earlier run loaded (`seen`: key -> [content stamp, cursor]) recognised unchanged.

    The newest cursor is known only once every row is read, so the rows that may fall in the
    window (those not older than the window of the newest cursor met so far) are kept as
    candidates, and the window is cut from them at the end."""

    def __init__(
        self, keys: list[int], seen: dict[str, list[str | None]], newest: str | None, hours: float
    ) -> None:
        self.keys, self.seen, self.newest, self.hours = keys, seen, newest, hours
        self._candidates: list[tuple[str, str, str | None]] = []

    def see(self, cursors: pa.ChunkedArray) -> None:
        newest = pc.max(cursors).as_py()
        self.newest = max(filter(None, [newest, self.newest]), default=None)

    def to_compare(self, cursors: pa.ChunkedArray) -> np.ndarray:
        """The rows to fingerprint: all once a run loaded some, else those that may be in
        the window."""
        bound = _lower_bound(self.newest, self.hours)
        if self.seen or bound is None:
            return np.ones(len(cursors), dtype=bool)
        mask = pc.fill_null(pc.greater_equal(cursors, bound), True)
        return mask.to_numpy(zero_copy_only=False)

    def unchanged(self, rows: list[tuple[Any, ...]], cursors: list[str | None]) -> list[bool]:
        """Which `rows` an earlier run loaded unchanged (same key and content)."""
        bound = _lower_bound(self.newest, self.hours)
        skip = []
        for values, cursor in zip(rows, cursors, strict=True):
            key = json.dumps([values[k] for k in self.keys], default=str)
            stamp = _stamp(values)
            skip.append(self.seen.get(key, [None])[0] == stamp)
            if cursor is None or bound is None or cursor >= bound:
                self._candidates.append((key, stamp, cursor))
        return skip

    def rows(self) -> dict[str, list[str | None]]:
        """The window's rows, remembered until they fall out of it (NULL cursors never do)."""
        bound = _lower_bound(self.newest, self.hours)
        return {
            key: [stamp, cursor]
            for key, stamp, cursor in self._candidates
            if cursor is None or bound is None or cursor >= bound
        }


def _values(table: pa.Table, names: list[str]) -> list[tuple[Any, ...]]:
    return list(zip(*(table.column(c).to_pylist() for c in names), strict=True))


def pos_table(
    database: Path, name: str, cfg: TableConfig, chunk_size: int = 100_000
) -> DltResource:
    """One SQLite table as an incremental, merged resource with a look-back window.

    One scan of the table by the ADBC driver gives Arrow batches; their rows go to one
    Parquet job file (`JobFiles`), the rows whose values misfit their columns are read again
    by rowid (as SQLite holds them) and rejected."""
    database = Path(database)

    def read() -> Iterator[Any]:
        # Columns are read when the resource runs (the file may not exist when the
        # Dagster definitions are loaded); the Arrow batches carry their types to dlt.
        with sqlite3.connect(f"file:{database.as_posix()}?mode=ro", uri=True) as con:
            columns = _columns(con, name)
        if not columns:  # reported, and the other tables still load
            logger.warning("pos.%s: table not found in %s", name, database)
            problem = Reject(None, None, f"table {name} not found in the till database")
            yield dlt.mark.with_hints(
                rejects_table(name, database.name, [problem]),
                rejected_hints(),
                create_table_variant=True,
            )
            return
        types = {c: _affinity(declared) for c, declared in columns}
        state = dlt.current.resource_state()
        names = [c for c, _ in columns]
        keys = [names.index(k) for k in cfg.primary_key]
        checks = " OR ".join(
            f"typeof({_q(c)}) NOT IN ({', '.join(repr(a) for a in allowed)})"
            for c, (_, _, allowed) in types.items()
        )
        cursor_sql = f"datetime({_q(cfg.cursor)})" if cfg.cursor else "NULL"
        lower = _lower_bound(state.get("cursor_max"), cfg.lookback_hours)
        params = [] if lower is None else [lower]
        in_reach = "1" if lower is None else f"({cursor_sql} IS NULL OR {cursor_sql} >= ?)"
        window = _Window(keys, state.get("window", {}), state.get("cursor_max"), cfg.lookback_hours)
        arrow_schema = pa.schema([(c, t) for c, (t, _, _) in types.items()])
        sql = _rows_sql(name, types, cursor_sql, checks, in_reach)
        misfits: list[int] = []
        files = JobFiles(name, key=list(cfg.primary_key))
        try:
            for table in _read_arrow(database, sql, params, chunk_size):
                window.see(table.column(_CURSOR))
                bad = table.column(_BAD).to_numpy().astype(bool)
                if bad.any():
                    misfits += table.column("rowid").filter(pa.array(bad)).to_pylist()
                    table = table.filter(pa.array(~bad))
                cursors = table.column(_CURSOR)
                batch = table.select(names).cast(arrow_schema)
                rows = np.flatnonzero(window.to_compare(cursors))
                if rows.size:
                    picked = rows.astype(np.int64)
                    skip = np.asarray(
                        window.unchanged(
                            _values(batch.take(picked), names), cursors.take(picked).to_pylist()
                        ),
                        dtype=bool,
                    )
                    if skip.any():
                        keep = np.ones(batch.num_rows, dtype=bool)
                        keep[rows[skip]] = False
                        batch = batch.filter(pa.array(keep))
                batch, _ = drop_suppressed(batch, name, LINKS.get(name, NO_LINKS))
                if batch.num_rows:  # erased persons never land
                    yield from files.add(add_row_ids(require_keys(batch, cfg.primary_key)))
            yield from _misfit_rejects(database, name, names, types, cursor_sql, misfits, window)
            first = first_load_hints("cursor_max" not in state, files)
            yield from with_first_hints(files.close(), first)
        finally:
            files.discard()
        state["window"] = window.rows()
        state["cursor_max"] = window.newest

    read.__name__ = name
    read.__doc__ = DESCRIPTIONS.get(name)
    return dlt.resource(
        with_row_ids(read),
        name=name,
        table_name=name,
        write_disposition="merge",
        primary_key=list(cfg.primary_key),
        columns={**ROW_ID_COLUMN, **LOAD_ID_COLUMN},
    )


def _misfit_rejects(
    database: Path,
    name: str,
    names: list[str],
    types: dict[str, Any],
    cursor_sql: str,
    rowids: list[int],
    window: _Window,
) -> Iterator[Any]:
    """The rows whose values misfit their columns, read by rowid as SQLite holds them, as
    `rejected_rows` (unless an earlier run rejected them unchanged)."""
    if not rowids:
        return
    select = f"SELECT {', '.join(_q(c) for c in names)}, {cursor_sql}, rowid FROM {_q(name)}"
    with sqlite3.connect(f"file:{database.as_posix()}?mode=ro", uri=True) as con:
        for start in range(0, len(rowids), 500):
            chunk = rowids[start : start + 500]
            found = con.execute(
                f"{select} WHERE rowid IN ({', '.join('?' * len(chunk))}) ORDER BY rowid", chunk
            ).fetchall()
            values = [r[: len(names)] for r in found]
            skip = window.unchanged(values, [r[-2] for r in found])
            rejects = [
                _reject(r[-1], names, v, types)
                for r, v, skipped in zip(found, values, skip, strict=True)
                if not skipped
            ]
            bad = drop_suppressed_rejects(rejects_table(name, database.name, rejects), LINKS)
            if bad.num_rows:
                yield dlt.mark.with_hints(bad, rejected_hints(), create_table_variant=True)


def _reject(rowid: int, names: list[str], values: tuple[Any, ...], types: dict[str, Any]) -> Reject:
    wrong = []
    for column, value in zip(names, values, strict=True):
        arrow_type, _, allowed = types[column]
        kind = {bytes: "blob", str: "text", int: "integer", float: "real"}.get(type(value))
        if value is not None and kind not in allowed:
            wrong.append(
                (column, f"column {column}: {kind} value {value!r} in a {arrow_type} column")
            )
    record = json.dumps(dict(zip(names, values, strict=True)), default=repr, ensure_ascii=False)
    return Reject(rowid, record, "; ".join(w for _, w in wrong), ", ".join(c for c, _ in wrong))


@dlt.source(name="pos", schema_contract=SCHEMA_CONTRACT)
def pos(database: Path, tables: dict[str, TableConfig]) -> list[DltResource]:
    """The till database `database` (default `<landing>/pos/pos.sqlite`).

    Args:
        database: path of the SQLite file.
        tables: the `sources.pos.tables` section of `config/sources.yaml`.
    """
    return [pos_table(database, name, cfg) for name, cfg in tables.items() if cfg.enabled]


__all__ = ["REJECTED_TABLE", "TABLES", "pos", "pos_table"]
