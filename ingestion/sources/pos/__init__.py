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
import pyarrow as pa
from dlt.extract.resource import DltResource

from ingestion.config import TableConfig
from ingestion.sources._common import (
    REJECTED_TABLE,
    SCHEMA_CONTRACT,
    Reject,
    TableSpec,
    logger,
    rejected_hints,
    rejects_table,
    require_keys,
)
from ingestion.sources._row_ids import ROW_ID_COLUMN, with_row_ids
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


def pos_table(
    database: Path, name: str, cfg: TableConfig, chunk_size: int = 100_000
) -> DltResource:
    """One SQLite table as an incremental, merged resource with a look-back window."""
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
        seen: dict[str, list[str | None]] = state.get("window", {})
        names = [c for c, _ in columns]
        keys = [names.index(k) for k in cfg.primary_key]
        checks = " OR ".join(
            f"typeof({_q(c)}) NOT IN ({', '.join(repr(a) for a in allowed)})"
            for c, (_, _, allowed) in types.items()
        )
        cursor_sql = f"datetime({_q(cfg.cursor)})" if cfg.cursor else "NULL"
        sql = (
            f"SELECT {', '.join(_q(c) for c in names)}, {cursor_sql}, ({checks}), rowid "
            f"FROM {_q(name)}"
        )
        lower = _lower_bound(state.get("cursor_max"), cfg.lookback_hours)
        params = [] if lower is None else [lower]
        if lower is not None:
            sql += f" WHERE {cursor_sql} IS NULL OR {cursor_sql} >= ?"
        con = sqlite3.connect(f"file:{database.as_posix()}?mode=ro", uri=True)
        try:
            newest = con.execute(f"SELECT max({cursor_sql}) FROM {_q(name)}").fetchone()[0]
            newest = max(filter(None, [newest, state.get("cursor_max")]), default=None)
            bound = _lower_bound(newest, cfg.lookback_hours)
            window: dict[str, list[str | None]] = {}
            result = con.execute(sql, params)
            while rows := result.fetchmany(chunk_size):
                cols = list(zip(*rows, strict=True))
                cursors, bads, rowids = cols[-3], cols[-2], cols[-1]
                skip = [False] * len(rows)
                for i, cursor in enumerate(cursors):
                    in_window = cursor is None or bound is None or cursor >= bound
                    if not (in_window or seen):
                        continue  # first run, older than the window: nothing to compare
                    # Skip what an earlier run loaded unchanged; remember the window's rows.
                    values = rows[i][: len(names)]
                    key = json.dumps([values[k] for k in keys], default=str)
                    stamp = _stamp(values)
                    skip[i] = seen.get(key, [None])[0] == stamp
                    if in_window:
                        window[key] = [stamp, cursor]
                take = [i for i in range(len(rows)) if not skip[i] and not bads[i]]
                if take:
                    every = len(take) == len(rows)
                    batch = pa.table(
                        {
                            c: pa.array(
                                cols[j] if every else [cols[j][i] for i in take], types[c][0]
                            )
                            for j, c in enumerate(names)
                        }
                    )
                    batch, _ = drop_suppressed(
                        batch, name, LINKS.get(name, NO_LINKS)
                    )  # erased persons never land
                    if batch.num_rows:
                        yield require_keys(batch, cfg.primary_key)
                rejects = [
                    _reject(rowids[i], names, rows[i][: len(names)], types)
                    for i in range(len(rows))
                    if bads[i] and not skip[i]
                ]
                bad = drop_suppressed_rejects(rejects_table(name, database.name, rejects), LINKS)
                if bad.num_rows:
                    yield dlt.mark.with_hints(
                        bad,
                        rejected_hints(),
                        create_table_variant=True,
                    )
        finally:
            con.close()
        # The window's rows are remembered until they fall out of it (NULL cursors never do).
        state["window"] = window
        state["cursor_max"] = newest

    read.__name__ = name
    read.__doc__ = DESCRIPTIONS.get(name)
    return dlt.resource(
        with_row_ids(read),
        name=name,
        table_name=name,
        write_disposition="merge",
        primary_key=list(cfg.primary_key),
        columns=ROW_ID_COLUMN,
    )


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
