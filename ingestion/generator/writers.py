"""File writers: monthly JSON lines / CSV through DuckDB, Parquet, SQLite, xlsx, Latin-1 CSV.

Every writer orders its rows explicitly and avoids wall-clock metadata so that the same seed
gives byte-identical files.
"""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ISO = "%Y-%m-%dT%H:%M:%SZ"


def iso(seconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds -> ISO 8601 UTC strings (`2025-03-14T09:12:44Z`); `missing` -> null."""
    mask = None if missing is None else np.asarray(missing, dtype=bool)
    arr = pa.array(np.asarray(seconds, dtype=np.int64), type=pa.int64(), mask=mask)
    return pc.strftime(arr.cast(pa.timestamp("s", tz="UTC")), format=ISO)


def month_of(seconds: np.ndarray) -> pa.Array:
    arr = pa.array(np.asarray(seconds, dtype=np.int64)).cast(pa.timestamp("s", tz="UTC"))
    return pc.strftime(arr, format="%Y-%m")


def ymd(days: np.ndarray, missing: np.ndarray | None = None, fmt: str = "%Y-%m-%d") -> pa.Array:
    mask = None if missing is None else np.asarray(missing, dtype=bool)
    arr = pa.array(np.asarray(days, dtype=np.int64) * 86_400, type=pa.int64(), mask=mask)
    return pc.strftime(arr.cast(pa.timestamp("s", tz="UTC")), format=fmt)


def zfill(prefix: str, values: np.ndarray, width: int) -> np.ndarray:
    return (prefix + pd.Series(np.asarray(values)).astype(str).str.zfill(width)).to_numpy(dtype=object)


def hex_ids(prefix: str, values: np.ndarray) -> np.ndarray:
    """Fixed-width lower-case hex identifiers from unsigned 64-bit integers, vectorised."""
    raw = np.asarray(values, dtype=">u8").tobytes()
    import binascii

    hexed = np.frombuffer(binascii.hexlify(raw), dtype="S16").astype(str)
    return np.char.add(prefix, hexed).astype(object)


def copy_monthly(con: duckdb.DuckDBPyConnection, select_sql: str, month_col: str,
                 order_by: str, directory: Path, stem: str, fmt: str) -> dict[str, int]:
    """Write `select_sql` (must expose `month_col`) as one file per month; returns rows per file."""
    directory.mkdir(parents=True, exist_ok=True)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _monthly AS {select_sql}").fetchall()
    months = [r[0] for r in con.execute(
        f"SELECT DISTINCT {month_col} FROM _monthly ORDER BY 1").fetchall()]
    ext = "jsonl" if fmt == "json" else "csv"
    options = "FORMAT JSON" if fmt == "json" else "FORMAT CSV, HEADER true"
    sizes = dict(con.execute(
        f"SELECT {month_col}, count(*) FROM _monthly GROUP BY 1").fetchall())
    counts = {}
    for month in months:
        path = directory / f"{stem}_{month}.{ext}"
        con.execute(
            f"COPY (SELECT * EXCLUDE ({month_col}) FROM _monthly WHERE {month_col} = '{month}' "
            f"ORDER BY {order_by}) TO '{path}' ({options})"
        ).fetchall()
        counts[str(path)] = int(sizes[month])
    con.execute("DROP TABLE _monthly").fetchall()
    return counts


def copy_csv(con: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({select_sql}) TO '{path}' (FORMAT CSV, HEADER true)").fetchall()
    return int(con.execute(f"SELECT count(*) FROM ({select_sql})").fetchall()[0][0])


def write_parquet(table: pa.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


POS_SCHEMA = {
    "stores": "store_id TEXT PRIMARY KEY, name TEXT, kind TEXT, street TEXT, postcode TEXT, "
              "city TEXT, country TEXT, opened_on TEXT, generic_email TEXT, updated_at TEXT",
    "loyalty_cards": "card_id TEXT PRIMARY KEY, store_id TEXT, issued_at TEXT, first_name TEXT, "
                     "last_name TEXT, email TEXT, phone TEXT, birth_date TEXT, street TEXT, "
                     "postcode TEXT, city TEXT, country TEXT, status TEXT, updated_at TEXT",
    "receipts": "receipt_id TEXT PRIMARY KEY, store_id TEXT, register_id TEXT, staff_id TEXT, "
                "card_id TEXT, sold_at TEXT, total_amount REAL, currency TEXT, "
                "payment_method TEXT, is_return INTEGER, original_receipt_id TEXT, updated_at TEXT",
    "receipt_lines": "receipt_id TEXT, line_no INTEGER, sku TEXT, quantity INTEGER, "
                     "unit_price REAL, discount REAL, line_amount REAL, updated_at TEXT, "
                     "PRIMARY KEY (receipt_id, line_no)",
}


def sqlite_create(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    for table, cols in POS_SCHEMA.items():
        db.execute(f"CREATE TABLE {table} ({cols})")
    return db


def sqlite_insert(db: sqlite3.Connection, table: str, data: pa.Table, chunk: int = 200_000) -> int:
    """Bulk insert an Arrow table in chunks, inside one transaction per call."""
    marks = ",".join("?" * data.num_columns)
    cols = ",".join(data.column_names)
    with db:
        for batch in data.to_batches(max_chunksize=chunk):
            columns = [c.to_pylist() for c in batch.columns]
            db.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", zip(*columns, strict=True))
    return data.num_rows


def write_xlsx(path: Path, header: list[str], rows: Iterable[list]) -> None:
    """Write-only openpyxl workbook, then re-zipped with fixed timestamps (deterministic)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Inscriptions")
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    fixed = "2026-01-01T00:00:00Z"
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms)", rf"\g<1>{fixed}\g<3>", text)
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
