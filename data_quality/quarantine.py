"""Row-level quarantine: SQL rules from `config/quality.yaml` evaluated set-based in DuckDB.

Violating rows are copied (never moved: the raw layer stays what was loaded) to
`quality.quarantine_rows` with the rule, severity, reason, source file, load id and the raw
record as JSON. Rows ingestion could not parse (`raw_<source>.rejected_rows`) are surfaced in
the same table under the rule `ingestion_rejected`.

Idempotent: for each (table, rule) the quarantined set is made equal to the set of rows that
violate the rule now. Rows already quarantined keep their `quarantined_at`; re-running adds
nothing; rows replaced by a later load (new `_dlt_id`) drop out. Staging models exclude the
error-severity rows with the `exclude_quarantined` dbt macro.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from cdp import warehouse
from cdp.warehouse import table_exists
from data_quality.config import QualityConfig, QuarantineRule
from data_quality.masking import mask_row
from data_quality.suites.base import q

log = logging.getLogger(__name__)

QUARANTINE_TABLE = "quality.quarantine_rows"
REJECTED_RULE = "ingestion_rejected"

COLUMN_SQL = """schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL, row_id VARCHAR NOT NULL,
    rule VARCHAR NOT NULL, severity VARCHAR NOT NULL, reason VARCHAR, source_file VARCHAR,
    load_id VARCHAR, raw_record JSON, quarantined_at TIMESTAMPTZ NOT NULL"""

_FIELDS = (
    "schema_name, table_name, row_id, rule, severity, reason, source_file, load_id, raw_record"
)


@dataclass
class RuleOutcome:
    schema_name: str
    table_name: str
    rule: str
    severity: str
    rows: int = 0
    new_rows: int = 0
    error: str | None = None


@dataclass
class QuarantineReport:
    outcomes: list[RuleOutcome] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(o.rows for o in self.outcomes)

    @property
    def new(self) -> int:
        return sum(o.new_rows for o in self.outcomes)

    @property
    def errors(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.error]

    def by_table(self) -> dict[str, int]:
        return self._rows_by(lambda o: f"{o.schema_name}.{o.table_name}")

    def by_rule(self) -> dict[str, int]:
        return self._rows_by(lambda o: f"{o.schema_name}.{o.table_name}:{o.rule}")

    def _rows_by(self, key) -> dict[str, int]:
        """Quarantined rows summed per `key(outcome)`, in first-seen order."""
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[key(o)] = out.get(key(o), 0) + o.rows
        return out


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    warehouse.ensure_table(con, QUARANTINE_TABLE, COLUMN_SQL)


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def _lit(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _sync(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    rule: str,
    select_sql: str,
    now: dt.datetime,
) -> tuple[int, int]:
    """Make quarantine rows for (schema, table, rule) equal to `select_sql`; return (rows, new)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _dq_violations AS {select_sql}")
    key = f"schema_name = {_lit(schema)} AND table_name = {_lit(table)} AND rule = {_lit(rule)}"
    con.execute(
        f"DELETE FROM {QUARANTINE_TABLE} WHERE {key} "
        f"AND row_id NOT IN (SELECT row_id FROM _dq_violations WHERE row_id IS NOT NULL)"
    )
    con.execute(
        f"UPDATE {QUARANTINE_TABLE} AS qr SET severity = v.severity, reason = v.reason "
        f"FROM (SELECT DISTINCT row_id AS v_row_id, severity, reason FROM _dq_violations) v "
        f"WHERE qr.schema_name = {_lit(schema)} AND qr.table_name = {_lit(table)} "
        f"AND qr.rule = {_lit(rule)} AND qr.row_id = v.v_row_id "
        f"AND (qr.severity <> v.severity OR qr.reason IS DISTINCT FROM v.reason)"
    )
    new = con.execute(
        f"INSERT INTO {QUARANTINE_TABLE} ({_FIELDS}, quarantined_at) "
        f"SELECT DISTINCT ON (row_id) {_FIELDS}, TIMESTAMPTZ '{now.isoformat()}' "
        f"FROM _dq_violations v WHERE v.row_id IS NOT NULL AND NOT EXISTS ("
        f"SELECT 1 FROM {QUARANTINE_TABLE} qr WHERE qr.schema_name = v.schema_name "
        f"AND qr.table_name = v.table_name AND qr.rule = v.rule AND qr.row_id = v.row_id)"
    ).fetchall()[0][0]
    total = con.execute(f"SELECT count(*) FROM {QUARANTINE_TABLE} WHERE {key}").fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS _dq_violations")
    return int(total), int(new or 0)


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """The `cdp_*` functions dbt has (consent vocabulary, normalisation), for rules that use them."""
    from dbt_project.plugins.cdp_udfs import register

    register(con)


def _rule_select(schema: str, table: str, columns: list[str], rule: QuarantineRule) -> str:
    row_id = (
        f"CAST(t.{q('_dlt_id')} AS VARCHAR)"
        if "_dlt_id" in columns
        else "md5(CAST(to_json(t) AS VARCHAR))"
    )
    if "_source_file" in columns:
        source_file = f"CAST(t.{q('_source_file')} AS VARCHAR)"
    elif "source_file" in columns:
        source_file = f"CAST(t.{q('source_file')} AS VARCHAR)"
    else:
        source_file = "NULL"
    load_id = f"CAST(t.{q('_dlt_load_id')} AS VARCHAR)" if "_dlt_load_id" in columns else "NULL"
    return (
        f"SELECT {_lit(schema)} AS schema_name, {_lit(table)} AS table_name, {row_id} AS row_id, "
        f"{_lit(rule.rule)} AS rule, {_lit(rule.severity)} AS severity, "
        f"{_lit(rule.reason)} AS reason, {source_file} AS source_file, {load_id} AS load_id, "
        f"to_json(t) AS raw_record FROM {q(schema)}.{q(table)} t WHERE ({rule.where})"
    )


def _rejected_select(schema: str, columns: list[str]) -> str:
    def col(name: str) -> str:
        return f"CAST(r.{q(name)} AS VARCHAR)" if name in columns else "NULL"

    row_id = (
        col("_dlt_id")
        if "_dlt_id" in columns
        else f"concat_ws('#', {col('table_name')}, {col('source_file')}, {col('line_number')})"
    )
    return (
        f"SELECT {_lit(schema)} AS schema_name, coalesce({col('table_name')}, 'unknown') AS table_name, "
        f"{row_id} AS row_id, {_lit(REJECTED_RULE)} AS rule, "
        f"coalesce({col('severity')}, 'error') AS severity, "
        f"coalesce({col('reason')}, 'rejected by ingestion') AS reason, "
        f"{col('source_file')} AS source_file, {col('_dlt_load_id')} AS load_id, "
        f"to_json(r) AS raw_record FROM {q(schema)}.rejected_rows r"
    )


def run_quarantine(
    con: duckdb.DuckDBPyConnection,
    config: QualityConfig,
    *,
    now: dt.datetime | None = None,
    raw_schemas: list[str] | None = None,
) -> QuarantineReport:
    """Evaluate every quarantine rule and copy ingestion rejects; writes quality.quarantine_rows."""
    now = now or dt.datetime.now(dt.UTC)
    ensure_table(con)
    report = QuarantineReport()
    from data_quality.outliers import all_quarantine_rules

    register_udfs(con)
    for asset, rules in all_quarantine_rules(config).items():
        schema, table = asset.split(".")
        columns = _columns(con, schema, table)
        if not columns:
            report.missing_tables.append(asset)
            continue
        configured = [r.rule for r in rules] + [REJECTED_RULE]
        con.execute(
            f"DELETE FROM {QUARANTINE_TABLE} WHERE schema_name = ? AND table_name = ? "
            f"AND NOT list_contains(?, rule)",
            [schema, table, configured],
        )
        for rule in rules:
            outcome = RuleOutcome(schema, table, rule.rule, rule.severity)
            try:
                outcome.rows, outcome.new_rows = _sync(
                    con, schema, table, rule.rule, _rule_select(schema, table, columns, rule), now
                )
            except duckdb.Error as exc:
                outcome.error = (
                    f"quarantine rule {rule.rule!r} on {asset} failed: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                )
                log.error(outcome.error)
            report.outcomes.append(outcome)

    # Rows ingestion could not parse, one rejected_rows table per raw dataset.
    schemas = raw_schemas or [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT table_schema FROM information_schema.tables "
            "WHERE table_name = 'rejected_rows' AND table_schema LIKE 'raw\\_%' ESCAPE '\\'"
        ).fetchall()
    ]
    for schema in schemas:
        columns = _columns(con, schema, "rejected_rows")
        if not columns:
            continue
        tables = (
            [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT coalesce(CAST(table_name AS VARCHAR), 'unknown') "
                    f"FROM {q(schema)}.rejected_rows"
                ).fetchall()
            ]
            if "table_name" in columns
            else ["unknown"]
        )
        known = con.execute(
            f"SELECT DISTINCT table_name FROM {QUARANTINE_TABLE} "
            f"WHERE schema_name = ? AND rule = ?",
            [schema, REJECTED_RULE],
        ).fetchall()
        for table in sorted(set(tables) | {k[0] for k in known}):
            outcome = RuleOutcome(schema, table, REJECTED_RULE, "error")
            select = (
                f"SELECT * FROM ({_rejected_select(schema, columns)}) "
                f"WHERE table_name = {_lit(table)}"
            )
            try:
                outcome.rows, outcome.new_rows = _sync(
                    con, schema, table, REJECTED_RULE, select, now
                )
            except duckdb.Error as exc:
                outcome.error = f"copying {schema}.rejected_rows failed: {exc}".splitlines()[0]
                log.error(outcome.error)
            report.outcomes.append(outcome)
    return report


# --------------------------------------------------------------------------------------
# Listing (CLI)
# --------------------------------------------------------------------------------------


def _schema_for(source: str | None) -> str | None:
    if source is None:
        return None
    return source if source.startswith("raw_") else f"raw_{source}"


def counts(
    con: duckdb.DuckDBPyConnection, source: str | None = None, rule: str | None = None
) -> pd.DataFrame:
    if not table_exists(con, QUARANTINE_TABLE):
        return pd.DataFrame()
    return con.execute(
        f"""
        SELECT schema_name, table_name, rule, severity, count(*) AS rows,
               count(DISTINCT load_id) AS loads, min(quarantined_at) AS first_seen,
               max(quarantined_at) AS last_seen, any_value(reason) AS reason
        FROM {QUARANTINE_TABLE}
        WHERE ($schema IS NULL OR schema_name = $schema) AND ($rule IS NULL OR rule = $rule)
        GROUP BY ALL ORDER BY schema_name, table_name, rows DESC
        """,
        {"schema": _schema_for(source), "rule": rule},
    ).df()


def samples(
    con: duckdb.DuckDBPyConnection,
    source: str | None = None,
    rule: str | None = None,
    per_rule: int = 3,
) -> list[dict[str, Any]]:
    """A few rows per (table, rule), personal data masked."""
    if not table_exists(con, QUARANTINE_TABLE):
        return []
    frame = con.execute(
        f"""
        SELECT schema_name, table_name, rule, severity, reason, source_file, load_id, row_id,
               CAST(raw_record AS VARCHAR) AS raw_record
        FROM {QUARANTINE_TABLE}
        WHERE ($schema IS NULL OR schema_name = $schema) AND ($rule IS NULL OR rule = $rule)
        QUALIFY row_number() OVER (PARTITION BY schema_name, table_name, rule
                                   ORDER BY quarantined_at, row_id) <= $n
        ORDER BY schema_name, table_name, rule
        """,
        {"schema": _schema_for(source), "rule": rule, "n": per_rule},
    ).df()
    out = []
    for row in frame.to_dict(orient="records"):
        try:
            record = json.loads(row["raw_record"]) if row["raw_record"] else {}
        except json.JSONDecodeError:
            record = {"raw_record": row["raw_record"]}
        if isinstance(record, dict):
            record = {k: v for k, v in record.items() if not str(k).startswith("_dlt")}
            row["raw_record"] = mask_row(record)
        out.append(row)
    return out
