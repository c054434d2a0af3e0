"""dbt staging and identity models on a tiny hand-written raw layer (tests/dbt/raw_fixture.sql).

Each dirty value in the fixture has one expected normalised form; rows that fail
normalisation are kept with a reason. Runs `dbt build` (models, data tests, unit tests) for
staging and the identity inputs, in-process with dbtRunner, against a temporary warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from cdp.settings import PROJECT_ROOT
from tests.dbt.test_marts import dbt_paths

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
FIXTURE = Path(__file__).parent / "raw_fixture.sql"


def _dbt(args: list[str], work: Path):
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke([*args, *dbt_paths(work)])
    assert result.exception is None, result.exception
    failed = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]
    assert result.success and not failed, "\n".join(failed)
    return result


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    work = tmp_path_factory.mktemp("dbt_staging")
    path = work / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(FIXTURE.read_text())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDP_WAREHOUSE", str(path))
        _dbt(
            [
                "build",
                "--select",
                "staging",
                "int_identity_records_unioned",
                "int_identifiers_unioned",
                "int_web_visitors_stitched",
                "int_web_sessions_stitched",
            ],
            work,
        )
    # read-write: dbt-duckdb keeps its own connection to the file open in this process, and
    # DuckDB refuses a second connection with a different configuration (read_only)
    with duckdb.connect(str(path)) as con:
        yield con


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


#: (case, query, rows) the models must return, declared in staging_expected.yaml
EXPECTED = [
    (e["case"], e["sql"], [tuple(r) for r in e["rows"]])
    for e in yaml.safe_load((Path(__file__).parent / "staging_expected.yaml").read_text("utf-8"))
]


@pytest.mark.parametrize(("case", "sql", "rows"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_models_return_the_normalised_values(warehouse, case, sql, rows) -> None:
    assert _rows(warehouse, sql) == rows


def test_bad_values_are_kept_with_a_reason(warehouse) -> None:
    rows = dict(
        _rows(
            warehouse,
            "select client_id, normalisation_issues from staging.stg_clienteling__clients",
        )
    )
    assert rows == {
        "CL-0000123": None,
        "CL-0000124": "store_generic_email, invalid_birth_date",
    }


def test_identity_records_blank_store_and_placeholder_values(warehouse) -> None:
    systems = dict(
        _rows(
            warehouse,
            "select source_system, count(*) from intermediate.int_identity_records_unioned "
            "group by 1",
        )
    )
    assert systems == {
        "shop_customer": 2,
        "shop_guest_order": 1,
        "pos_card": 2,
        "clienteling": 2,
        "esp_contact": 1,
        "web_visitor": 2,
        "service_ticket": 2,
        "spreadsheet": 1,
    }


def test_identifiers_link_across_systems(warehouse) -> None:
    identifiers = set(
        _rows(
            warehouse,
            "select record_id, id_type, id_value from intermediate.int_identifiers_unioned",
        )
    )
    assert {
        # anonymous-to-known: the cookie logged in as customer 100234
        ("web_visitor:anon-1", "shop_customer_id", "100234"),
        # a guest purchase seen on the web, and a ticket about that guest order
        ("web_visitor:anon-2", "shop_order_id", "100009124"),
        ("service_ticket:T-000123", "shop_order_id", "100009124"),
        ("shop_guest_order:100009124", "shop_order_id", "100009124"),
        # a ticket about a receipt paid with a loyalty card; the card on the shop account
        ("service_ticket:T-000124", "loyalty_card_id", "LC00012345"),
        ("shop_customer:100234", "loyalty_card_id", "LC00012345"),
        ("clienteling:CL-0000123", "loyalty_card_id", "LC00012345"),
    } <= identifiers


def test_quarantined_rows_are_absent_from_staging(warehouse, tmp_path) -> None:
    """An order quarantined with severity error leaves staging with its items (macro
    exclude_quarantined on the real staging models); a warn-severity one stays."""
    from data_quality.quarantine import QUARANTINE_TABLE, ensure_table

    path = warehouse.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()[0]
    orders = "select increment_id from staging.stg_shop__orders order by 1"
    items = "select order_id from staging.stg_shop__order_items order by 1"
    assert _rows(warehouse, orders) == [("100009123",), ("100009124",)]
    assert _rows(warehouse, items) == [(9000123,)]
    ensure_table(warehouse)
    warehouse.execute(
        f"insert into {QUARANTINE_TABLE} (schema_name, table_name, row_id, rule, severity, "
        "quarantined_at) values ('raw_shop', 'orders', 'b', 'test', 'error', now()), "
        "('raw_shop', 'orders', 'c', 'test', 'warn', now())"
    )
    selection = ["--select", "stg_shop__orders", "stg_shop__order_items"]
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CDP_WAREHOUSE", path)
            _dbt(["run", *selection], tmp_path)
        assert _rows(warehouse, orders) == [("100009124",)]
        assert _rows(warehouse, items) == []
    finally:
        warehouse.execute(f"drop table {QUARANTINE_TABLE}")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CDP_WAREHOUSE", path)
            _dbt(["run", *selection], tmp_path)


def test_birth_dates_use_the_core_rule(warehouse) -> None:
    """Staging reads birth dates with the identity engine's rule (cdp.normalize.parse_birth_date,
    as the cdp_birth_date UDF): 1900-01-01 is a placeholder, not a birth date."""
    from cdp.normalize import parse_birth_date

    models = DBT_PROJECT / "models" / "staging"
    for model in (
        "shop/stg_shop__customers.sql",
        "clienteling/stg_clienteling__clients.sql",
        "pos/stg_pos__loyalty_cards.sql",
        "spreadsheets/stg_spreadsheets__event_signups.sql",
    ):
        assert "birth_date='" in (models / model).read_text(), model  # through person_fields
    assert "parse_birth_date(birth_date)" in (DBT_PROJECT / "macros" / "normalize.sql").read_text()
    assert "cdp_birth_date(" in (DBT_PROJECT / "macros" / "casting.sql").read_text()
    # the UDF the macro calls, on the connection the staging views run on
    values = ["1900-01-01", "01/01/1900", "12/03/1985", "31118", "31/02/1990"]
    rows = _rows(
        warehouse,
        "select v, cast(cdp_birth_date(v) as date)::varchar from unnest(" + str(values) + ") t(v)",
    )
    assert rows == [
        (v, None if parse_birth_date(v) is None else parse_birth_date(v).isoformat())
        for v in values
    ]
    assert rows[0] == ("1900-01-01", None) and rows[2] == ("12/03/1985", "1985-03-12")
