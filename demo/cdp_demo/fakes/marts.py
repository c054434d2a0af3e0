"""Contract-shaped marts for the tests, the demo self-check and the sync benchmark, without
building the whole dbt project.

customer_360, customer_consent and the ML score tables are empty tables shaped by their dbt
contracts (`activation.contract.contract_columns`); `marts.customer_profiles` is a view whose
SQL is the dbt model itself, compiled by dbt. A test writes a person into customer_360 or a
score into ml.churn_scores and activation sees it through the mart's own join: nothing of the
model is restated here.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from activation.contract import CUSTOMER_PROFILES, contract_columns, create_table_sql
from cdp.settings import PROJECT_ROOT, disable_telemetry

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@functools.cache
def compiled_model_sql(model: str) -> str:
    """The DuckDB SQL of the dbt model `model`, relations written `schema.table` (no catalog)."""
    from dbt.cli.main import dbtRunner

    disable_telemetry()
    with tempfile.TemporaryDirectory(prefix="cdp-compile-") as tmp:
        work = Path(tmp)
        result = dbtRunner().invoke(
            [
                "compile",
                "--quiet",
                "--log-level",
                "none",
                "--select",
                model,
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(work / "target"),
                "--log-path",
                str(work / "logs"),
                # profiles.yml reads the warehouse path from this var; compiling opens nothing
                "--vars",
                json.dumps({"cdp_warehouse": str(work / "compile.duckdb")}),
            ]
        )
        if not result.success:
            raise RuntimeError(f"dbt compile --select {model} failed: {result.exception}")
        (node,) = [r.node for r in result.result.results if r.node.name == model]
        sql = node.compiled_code
    tree = sqlglot.parse_one(sql, read="duckdb")
    for table in tree.find_all(exp.Table):
        table.set("catalog", None)  # the compile warehouse's name, not the test's
    return tree.sql(dialect="duckdb")


def create_contract_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The relations activation reads: tables from their contracts, customer_profiles as the
    compiled dbt model over them."""
    for name, columns in contract_columns().items():
        if name == CUSTOMER_PROFILES:
            continue
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {name.split('.')[0]}")
        con.execute(create_table_sql(name, columns))
    con.execute(f"CREATE VIEW {CUSTOMER_PROFILES} AS {compiled_model_sql('customer_profiles')}")
