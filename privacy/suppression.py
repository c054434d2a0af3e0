"""`privacy.suppressions`: salted hashes of identifiers that must not come back.

A suppressed identifier is never loaded again (ingestion drops the records that carry one and
counts them) and never sent to a destination. `unsuppress` takes it off the list, e.g. when
the person opts in again.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from privacy.schema import SUPPRESSIONS, ensure_schema
from privacy.subjects import Subject

TABLE = SUPPRESSIONS


def add(con: duckdb.DuckDBPyConnection, subject: Subject, request_id: str) -> int:
    """Put the subject's identifiers on the list; returns how many were new."""
    ensure_schema(con)
    new = pa.table(
        {
            "kind": pa.array([k for k, _ in subject.hashes], pa.string()),
            "hash": pa.array([h for _, h in subject.hashes], pa.string()),
        }
    )
    con.register("_privacy_new", new)
    try:
        before = count(con)
        con.execute(
            f"""INSERT INTO {TABLE}
                SELECT DISTINCT n.kind, n.hash, ?, ? FROM _privacy_new n
                WHERE NOT EXISTS (SELECT 1 FROM {TABLE} s
                                  WHERE s.identifier_kind = n.kind AND s.identifier_hash = n.hash)""",
            [request_id, dt.datetime.now(dt.UTC)],
        ).fetchall()
        return count(con) - before
    finally:
        con.unregister("_privacy_new")


def remove(con: duckdb.DuckDBPyConnection, subject: Subject) -> int:
    ensure_schema(con)
    before = count(con)
    for kind, digest in subject.hashes:
        con.execute(
            f"DELETE FROM {TABLE} WHERE identifier_kind = ? AND identifier_hash = ?",
            [kind, digest],
        ).fetchall()
    return before - count(con)


def count(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0])
