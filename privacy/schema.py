"""The `privacy` schema: requests and the suppression list, declared once."""

from __future__ import annotations

import duckdb

REQUESTS = "privacy.requests"
SUPPRESSIONS = "privacy.suppressions"

_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {REQUESTS} (
        request_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        subject VARCHAR[] NOT NULL,
        source VARCHAR NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        due_at TIMESTAMPTZ NOT NULL,
        status VARCHAR NOT NULL,
        steps JSON,
        completed_at TIMESTAMPTZ,
        note VARCHAR
    )""",
    f"""CREATE TABLE IF NOT EXISTS {SUPPRESSIONS} (
        identifier_kind VARCHAR NOT NULL,
        identifier_hash VARCHAR NOT NULL,
        request_id VARCHAR NOT NULL,
        added_at TIMESTAMPTZ NOT NULL
    )""",
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS privacy")
    for ddl in _DDL:
        con.execute(ddl)
