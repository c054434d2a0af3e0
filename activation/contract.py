"""The marts activation reads, with the columns their dbt contracts declare.

Activation reads `marts.customer_profiles` (customer_360 with the ML scores, joined by dbt) and
`marts.customer_consent`. Their columns are never restated here: they come from the marts' YAML
contracts (`cdp.dbt_contract`), the same declaration dbt enforces when it builds them, so a
column added to a mart is at once part of the segment and sync vocabulary.

The contracts also give empty contract-shaped tables, against which segment conditions and sync
SQL are validated before the marts exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from cdp.dbt_contract import model_columns, model_schema, source_columns
from cdp.warehouse import connect as duckdb_connect
from cdp.warehouse import table_exists

CUSTOMER_360 = f"{model_schema('customer_360')}.customer_360"
CUSTOMER_PROFILES = f"{model_schema('customer_profiles')}.customer_profiles"
CUSTOMER_CONSENT = f"{model_schema('customer_consent')}.customer_consent"
# the ML outputs customer_profiles reads (dbt sources); a sync's own SQL may read them too
SCORE_SOURCES = (("ml", "churn_scores"), ("ml", "purchase_scores"))


def contract_columns() -> dict[str, dict[str, str]]:
    """`{relation: {column: data_type}}` of every relation activation reads, from the contracts."""
    marts = {
        CUSTOMER_360: model_columns("customer_360"),
        CUSTOMER_PROFILES: model_columns("customer_profiles"),
        CUSTOMER_CONSENT: model_columns("customer_consent"),
    }
    return marts | {f"{s}.{t}": source_columns(s, t) for s, t in SCORE_SOURCES}


def create_table_sql(name: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    return f"CREATE TABLE {name} ({cols})"


def create_contract_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every relation of `contract_columns()` as an empty table (for validation)."""
    for name, columns in contract_columns().items():
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {name.split('.')[0]}")
        con.execute(create_table_sql(name, columns))


@contextmanager
def compile_target(
    con: duckdb.DuckDBPyConnection | None,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, bool]]:
    """Where segment conditions and sync SQL compile: `(con, False)` when its marts exist, else
    `(an in-memory database of empty contract-shaped tables, True)`, closed afterwards."""
    if con is not None and table_exists(con, CUSTOMER_360):
        yield con, False
        return
    own = duckdb_connect()
    try:
        create_contract_tables(own)
        yield own, True
    finally:
        own.close()


def relation_columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    schema, name = qualified.split(".")
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def base_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The SELECT segments and segment syncs read: `marts.customer_profiles`.

    Before the ML scores have ever been written, dbt has not built customer_profiles yet; then
    customer_360 stands in with the profile's other columns (the scores) as typed NULLs, so
    that conditions on them compile and simply match nobody.
    """
    if table_exists(con, CUSTOMER_PROFILES):
        return f"SELECT * FROM {CUSTOMER_PROFILES}"
    if not table_exists(con, CUSTOMER_360):
        raise LookupError(f"{CUSTOMER_360} does not exist yet (built by dbt)")
    seen = set(relation_columns(con, CUSTOMER_360))
    nulls = [
        f'CAST(NULL AS {data_type}) AS "{column}"'
        for column, data_type in model_columns("customer_profiles").items()
        if column not in seen
    ]
    return f"SELECT {', '.join(['c.*', *nulls])} FROM {CUSTOMER_360} AS c"
