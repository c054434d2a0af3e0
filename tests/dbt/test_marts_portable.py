"""The marts compile for other warehouses than DuckDB: PostgreSQL and Spark.

dbt compiles `--select marts` with the dbt-postgres and dbt-spark adapters (compile only: the
profile points at a closed port and `--no-populate-cache` keeps dbt from connecting), so the
cross-database macros and the project's dispatched macros render for each adapter. sqlglot
then parses every compiled mart in that adapter's dialect and rejects any function it does not
know in that dialect (a DuckDB-only function such as `list_sort` or `regexp_matches` parses as
an anonymous call, and fails here).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from cdp.settings import PROJECT_ROOT

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
MARTS = DBT_PROJECT / "models" / "marts"

# adapter -> (profile output, sqlglot dialect)
ADAPTERS = {
    "postgres": (
        {"type": "postgres", "host": "127.0.0.1", "port": 9, "user": "cdp", "password": "x"}
        | {"dbname": "cdp", "schema": "public", "threads": 1},
        "postgres",
    ),
    "spark": (
        {"type": "spark", "method": "thrift", "host": "127.0.0.1", "port": 9, "schema": "cdp"}
        | {"threads": 1},
        "spark",
    ),
}
# Built-in functions of the engine that sqlglot does not model: Spark's assert_true (since
# Spark 3.1), which dbt-spark's own dbt.datediff emits.
KNOWN_TO_THE_ENGINE = {"postgres": set(), "spark": {"assert_true"}}


def _profile(adapter: str) -> str:
    output = ADAPTERS[adapter][0]
    lines = "".join(f"      {key}: {value}\n" for key, value in output.items())
    return f"cdp:\n  target: {adapter}\n  outputs:\n    {adapter}:\n{lines}"


def compile_marts(adapter: str, work: Path) -> dict[str, str]:
    """`dbt compile --select marts` for `adapter`; mart name -> compiled SQL."""
    (work / "profiles.yml").write_text(_profile(adapter))
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [
            str(dbt),
            "compile",
            "--select",
            "marts",
            "--no-populate-cache",
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(work),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        capture_output=True,
        text=True,
        env={"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "PATH": ""},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    compiled = work / "target" / "compiled" / "cdp" / "models" / "marts"
    return {path.stem: path.read_text() for path in compiled.glob("*.sql")}


def unknown_functions(sql: str, dialect: str) -> list[str]:
    """Functions of `sql` that sqlglot does not know in `dialect` (raises on a syntax error)."""
    [tree] = sqlglot.parse(sql, read=dialect, error_level=ErrorLevel.RAISE)
    return sorted({node.name for node in tree.find_all(exp.Anonymous)})


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_every_mart_compiles_and_parses_in_the_adapter_dialect(adapter: str, tmp_path) -> None:
    compiled = compile_marts(adapter, tmp_path)
    assert set(compiled) == {path.stem for path in MARTS.glob("*.sql")}
    dialect = ADAPTERS[adapter][1]
    unknown = {
        mart: set(unknown_functions(sql, dialect)) - KNOWN_TO_THE_ENGINE[adapter]
        for mart, sql in compiled.items()
    }
    assert not {mart: names for mart, names in unknown.items() if names}


def test_a_duckdb_only_function_is_caught() -> None:
    """The check can fail: DuckDB's list and regexp functions are unknown to PostgreSQL."""
    sql = (
        "select list_sort(ids) as ids, regexp_matches(email, '^x') as flagged,"
        " array_agg(id order by id) filter (where id > 0) as kept from t group by 1, 2"
    )
    assert unknown_functions(sql, "postgres") == ["list_sort", "regexp_matches"]
    assert unknown_functions(sql.replace("list_sort", "array_sort"), "spark") == ["regexp_matches"]
