"""Small facts about the DuckDB warehouse that every domain asks for."""

from __future__ import annotations

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether `schema.name` exists (table or view): first runs read before anything is built."""
    schema, name = qualified.split(".")
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()  # fetchone() would leave the result open and block the next query
    return bool(rows[0][0])
