"""Reading the warehouse for a quality run: catalogue lookups and queries as pandas frames."""

from __future__ import annotations

import logging
from typing import Any

import duckdb
import pandas as pd

from data_quality.masking import mask_row

log = logging.getLogger(__name__)


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str] | None:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {name: dtype for name, dtype in rows} or None


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    return {f"{s}.{t}" for s, t in rows}


def read_frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Query -> Arrow -> pandas, set-based (no Python loop over rows)."""
    relation = con.sql(sql)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # duckdb 2 / 1.x
    return fetch().to_pandas()


def _sample(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    try:
        frame = read_frame(con, sql)
    except duckdb.Error as exc:  # a sample is a courtesy; never fail the run for it
        log.warning("sample query failed: %s", exc)
        return []
    return [mask_row(row) for row in frame.to_dict(orient="records")]
