"""Right of access (GDPR art. 15): everything the warehouse holds about one person, as JSON.

The subject's hashed identifiers are matched against the identity records in DuckDB (the
salt is bound as a parameter); every person they resolve to is exported with:
- `source_records`: each source record resolved to them (identity graph + the record);
- one entry per warehouse table with a `person_id` column (golden record with its
  `*_source` columns, orders and lines, timeline, consent and segment history, features,
  scores with the model version, ...), under `tables["schema.table"]`;
- `deliveries`: the sync state, journal and failures of every key that names them.
Tables are found from the catalogue, so a new mart with `person_id` is exported unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb

from data_quality.masking import jsonable
from privacy.subjects import Subject, hash_sql, salt

IDENTITY_GRAPH = "identity.identity_graph"
RECORDS_MODEL = "int_identity_records_unioned"
DELIVERY_TABLES = ("activation.sync_state", "activation.sync_journal", "activation.sync_failures")
SKIP_SCHEMAS = ("privacy", "information_schema", "pg_catalog")


def _relation(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    row = con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = ? "
        "ORDER BY table_schema LIMIT 1",
        [name],
    ).fetchall()
    return f'"{row[0][0]}"."{name}"' if row else None


def _exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def persons_of(con: duckdb.DuckDBPyConnection, subject: Subject, secret: str) -> list[str]:
    """Person ids the subject's identifiers resolve to (none when identity has not run)."""
    if not _exists(con, IDENTITY_GRAPH):
        return []
    found: set[str] = set()
    ids = subject.of_kind("person_id")
    if ids:
        rows = con.execute(
            f"SELECT DISTINCT person_id FROM {IDENTITY_GRAPH} "
            f"WHERE {hash_sql('person_id', 'person_id')} IN (SELECT unnest(?))",
            [secret, ids],
        ).fetchall()
        found |= {r[0] for r in rows}
    records = _relation(con, RECORDS_MODEL)
    for kind in ("email", "phone"):
        hashes = subject.of_kind(kind)
        if hashes and records:
            rows = con.execute(
                f"SELECT DISTINCT g.person_id FROM {IDENTITY_GRAPH} g "
                f"JOIN {records} r USING (record_id) "
                f"WHERE r.{kind} IS NOT NULL AND {hash_sql(kind, f'r.{kind}')} IN (SELECT unnest(?))",
                [secret, hashes],
            ).fetchall()
            found |= {r[0] for r in rows}
    return sorted(found)


def person_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table or view with a `person_id` column, outside the privacy schema."""
    rows = con.execute(
        "SELECT DISTINCT table_schema, table_name FROM information_schema.columns "
        "WHERE column_name = 'person_id' AND table_schema NOT IN "
        f"({', '.join(repr(s) for s in SKIP_SCHEMAS)}) ORDER BY 1, 2"
    ).fetchall()
    return [f"{s}.{t}" for s, t in rows]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    frame = con.execute(sql, params).df()
    return [jsonable(r) for r in frame.to_dict(orient="records")]


def _quoted(qualified: str) -> str:
    schema, table = qualified.split(".")
    return f'"{schema}"."{table}"'


def collect(con: duckdb.DuckDBPyConnection, subject: Subject) -> dict[str, Any]:
    """The access export of `subject` as a JSON-ready dict."""
    secret = salt()
    persons = persons_of(con, subject, secret)
    out: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "persons": persons,
        "source_records": [],
        "tables": {},
        "deliveries": {},
    }
    if not persons:
        return out
    records = _relation(con, RECORDS_MODEL)
    if records:
        out["source_records"] = _rows(
            con,
            f"SELECT g.person_id, r.* FROM {IDENTITY_GRAPH} g JOIN {records} r USING (record_id) "
            "WHERE g.person_id IN (SELECT unnest(?)) ORDER BY r.record_id",
            [persons],
        )
    for table in person_tables(con):
        out["tables"][table] = _rows(
            con,
            f"SELECT * FROM {_quoted(table)} WHERE person_id IN (SELECT unnest(?))",
            [persons],
        )
    keys = set(persons)
    for rec in out["source_records"]:
        keys |= {str(rec[c]) for c in ("email", "phone") if rec.get(c)}
    for table in DELIVERY_TABLES:
        if _exists(con, table):
            out["deliveries"][table] = _rows(
                con, f"SELECT * FROM {table} WHERE key IN (SELECT unnest(?))", [sorted(keys)]
            )
    return out


def write_export(data: dict[str, Any], out: Path) -> Path:
    """Write the export readable by its owner only (it is all personal data)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    tmp.replace(out)
    return out
