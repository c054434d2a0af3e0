"""The `exclude_quarantined` dbt macro in a throw-away dbt-duckdb project."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from data_quality.config import load_config
from data_quality.quarantine import run_quarantine
from tests.data_quality.dq_fixtures import NOW, make_raw_shop

MACRO = (
    Path(__file__).resolve().parents[2] / "data_quality" / "dbt_macros" / "exclude_quarantined.sql"
)


QUALITY_SOURCE = (
    Path(__file__).resolve().parents[2]
    / "dbt_project"
    / "models"
    / "staging"
    / "_quality__sources.yml"
)


def _project(root: Path, warehouse: Path) -> Path:
    (root / "macros").mkdir(parents=True)
    (root / "models").mkdir()
    shutil.copy(MACRO, root / "macros" / MACRO.name)
    shutil.copy(QUALITY_SOURCE, root / "models" / QUALITY_SOURCE.name)
    (root / "dbt_project.yml").write_text(
        "name: dq_macro_test\nversion: '1.0.0'\nconfig-version: 2\nprofile: dq\n"
        "flags:\n  send_anonymous_usage_stats: false\n"
    )
    (root / "profiles.yml").write_text(
        f"dq:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{warehouse}'\n"
    )
    (root / "models" / "stg_orders.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select src.entity_id from raw_shop.orders as src\n"
        "where {{ exclude_quarantined('raw_shop', 'orders', alias='src') }}\n"
    )
    (root / "models" / "stg_customers.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select entity_id from raw_shop.customers\n"
        "where {{ exclude_quarantined('raw_shop', 'customers') }}\n"
    )
    return root


def _dbt_run(project: Path) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        ["run", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"]
    )
    assert result.success, result.exception


def _ids(warehouse: Path, table: str) -> list[int]:
    with duckdb.connect(str(warehouse)) as con:  # same config as dbt's in-process connection
        return [
            r[0] for r in con.execute(f"SELECT entity_id FROM main.{table} ORDER BY 1").fetchall()
        ]


@pytest.mark.filterwarnings("ignore")
def test_staging_excludes_error_rows_only(tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=True)
    project = _project(tmp_path / "dbt", warehouse)

    _dbt_run(project)  # no quality.quarantine_rows yet: nothing excluded
    assert _ids(warehouse, "stg_orders") == [10, 11, 12, 13, 14]

    with duckdb.connect(str(warehouse)) as con:
        run_quarantine(con, load_config(), now=NOW)
    _dbt_run(project)
    assert _ids(warehouse, "stg_orders") == [10, 11, 12]  # 13 negative, 14 future: error
    # customer c4 (invalid e-mail) is quarantined as warn and stays; c5 (future, no e-mail) goes
    assert _ids(warehouse, "stg_customers") == [1, 2, 3, 3]
