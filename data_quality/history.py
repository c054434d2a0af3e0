"""Validation history in `quality.validation_results`: append, baseline, what fails since when."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from cdp import warehouse
from cdp.warehouse import table_exists

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from data_quality.results import SuiteResult

RESULTS_TABLE = "quality.validation_results"

#: each column of RESULTS_TABLE and its type, in table order
SCHEMA = {
    "run_id": "VARCHAR NOT NULL",
    "validated_at": "TIMESTAMPTZ NOT NULL",
    "asset": "VARCHAR NOT NULL",
    "suite": "VARCHAR NOT NULL",
    "expectation": "VARCHAR NOT NULL",
    "expectation_type": "VARCHAR",
    "kind": "VARCHAR",
    "column": "VARCHAR",
    "severity": "VARCHAR NOT NULL",
    "success": "BOOLEAN NOT NULL",
    "observed_value": "VARCHAR",
    "unexpected_count": "BIGINT",
    "unexpected_percent": "DOUBLE",
    "details": "JSON",
}
COLUMNS = list(SCHEMA)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    warehouse.ensure_table(con, RESULTS_TABLE, ", ".join(f'"{c}" {t}' for c, t in SCHEMA.items()))


def append(con: duckdb.DuckDBPyConnection, results: Iterable[SuiteResult]) -> int:
    """Append one row per expectation result; returns the number of rows written."""
    rows = []
    for suite_result in results:
        if suite_result.skipped:
            continue
        for r in suite_result.results:
            rows.append(
                {
                    "run_id": suite_result.run_id,
                    "validated_at": suite_result.validated_at,
                    "asset": suite_result.asset,
                    "suite": suite_result.suite,
                    "expectation": r.check_id,
                    "expectation_type": r.expectation_type,
                    "kind": r.kind,
                    "column": r.column,
                    "severity": r.severity,
                    "success": bool(r.success),
                    "observed_value": json.dumps(r.observed_value, ensure_ascii=False, default=str),
                    "unexpected_count": r.unexpected_count,
                    "unexpected_percent": r.unexpected_percent,
                    "details": json.dumps(r.details_json(), ensure_ascii=False, default=str),
                }
            )
    if not rows:
        return 0
    ensure_table(con)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["unexpected_count"] = frame["unexpected_count"].astype("Int64")
    frame["unexpected_percent"] = frame["unexpected_percent"].astype("Float64")
    column_list = ", ".join(f'"{c}"' for c in COLUMNS)
    con.register("_dq_results", frame)
    try:
        con.execute(
            f"INSERT INTO {RESULTS_TABLE} ({column_list}) SELECT {column_list} FROM _dq_results"
        )
    finally:
        con.unregister("_dq_results")
    return len(rows)


def previous_row_count(con: duckdb.DuckDBPyConnection, asset: str) -> int | None:
    """Row count observed by the latest run of `asset` without an error-severity failure.

    When no earlier run was free of errors (a persistent error elsewhere in the suite), the
    latest earlier run is the baseline, so the volume check still compares load to load.
    """
    if not table_exists(con, RESULTS_TABLE):
        return None
    row = con.execute(
        """
        WITH runs AS (
            SELECT run_id, max(validated_at) AS at,
                   bool_and(success OR severity <> 'error') AS ok
            FROM quality.validation_results WHERE asset = $asset GROUP BY run_id
        )
        SELECT v.observed_value
        FROM quality.validation_results v JOIN runs r USING (run_id)
        WHERE v.asset = $asset AND v.expectation = 'row_count_within_tolerance'
        ORDER BY r.ok DESC, r.at DESC LIMIT 1
        """,
        {"asset": asset},
    ).fetchall()
    row = row[0] if row else None
    if row is None or row[0] is None:
        return None
    try:
        return int(float(json.loads(row[0])))
    except (TypeError, ValueError):
        return None


def latest(con: duckdb.DuckDBPyConnection, asset: str | None = None) -> pd.DataFrame:
    """Latest result of every expectation (per asset), failures first."""
    if not table_exists(con, RESULTS_TABLE):
        return pd.DataFrame()
    return con.execute(
        """
        WITH ranked AS (
            SELECT *, row_number() OVER (PARTITION BY asset, expectation
                                         ORDER BY validated_at DESC) AS rn
            FROM quality.validation_results
            WHERE $asset IS NULL OR asset = $asset
        )
        SELECT asset, expectation, "column", severity, success, observed_value,
               unexpected_count, validated_at, run_id
        FROM ranked WHERE rn = 1
        ORDER BY success, CASE severity WHEN 'error' THEN 0 ELSE 1 END, asset, expectation
        """,
        {"asset": asset},
    ).df()


def failing_since(con: duckdb.DuckDBPyConnection, asset: str | None = None) -> pd.DataFrame:
    """Expectations failing in their latest run, with the first run of the current failure streak."""
    if not table_exists(con, RESULTS_TABLE):
        return pd.DataFrame()
    return con.execute(
        """
        WITH v AS (
            SELECT * FROM quality.validation_results WHERE $asset IS NULL OR asset = $asset
        ),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY asset, expectation
                                         ORDER BY validated_at DESC) AS rn
            FROM v
        ),
        last_ok AS (
            SELECT asset, expectation, max(validated_at) AS ok_at FROM v WHERE success
            GROUP BY asset, expectation
        )
        SELECT r.asset, r.expectation, r."column", r.severity, r.observed_value,
               r.unexpected_count, r.validated_at AS last_checked,
               (SELECT min(x.validated_at) FROM v x
                 WHERE x.asset = r.asset AND x.expectation = r.expectation
                   AND x.validated_at > coalesce(o.ok_at, TIMESTAMPTZ '1970-01-01')) AS failing_since,
               (SELECT count(DISTINCT x.run_id) FROM v x
                 WHERE x.asset = r.asset AND x.expectation = r.expectation
                   AND x.validated_at > coalesce(o.ok_at, TIMESTAMPTZ '1970-01-01')) AS failing_runs,
               o.ok_at AS last_success
        FROM ranked r LEFT JOIN last_ok o USING (asset, expectation)
        WHERE r.rn = 1 AND NOT r.success
        ORDER BY CASE r.severity WHEN 'error' THEN 0 ELSE 1 END, failing_since, r.asset
        """,
        {"asset": asset},
    ).df()
