"""Tiny DuckDB warehouses shaped like the contract, built per test (no ingestion needed)."""

from __future__ import annotations

import datetime as dt

import duckdb

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
LOAD_ID = f"{NOW.timestamp() - 3600:.6f}"  # loaded one hour before NOW


def make_raw_shop(con: duckdb.DuckDBPyConnection, *, bad: bool = True) -> None:
    """raw_shop.customers / orders / orders__items; `bad` plants one problem of each kind."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw_shop")
    customers = [
        (
            1,
            "marie.dupont@gmail.com",
            "2025-01-01T09:00:00Z",
            "2026-10-30T09:00:00Z",
            "1985-03-12",
            2,
            "c1",
        ),
        (2, "jean@example.fr", "2025-02-01T09:00:00Z", "2026-10-30T09:00:00Z", None, 1, "c2"),
        (
            3,
            "anne@example.fr",
            "2025-03-01T09:00:00Z",
            "2026-10-30T09:00:00Z",
            "1990-01-01",
            2,
            "c3",
        ),
    ]
    orders = [
        (10, 1, "2026-10-01T10:00:00Z", "complete", "EUR", 120.0, -12.0, 5.9, 113.9, 0.0, "o10"),
        (11, 2, "2026-10-02T10:00:00Z", "complete", "EUR", 50.0, 0.0, 0.0, 50.0, 0.0, "o11"),
        (12, None, "2026-10-03T10:00:00Z", "canceled", "EUR", 30.0, 0.0, 0.0, 30.0, 0.0, "o12"),
    ]
    items = [(100, 10, 1, 120.0, 120.0, "i100"), (101, 11, 2, 25.0, 50.0, "i101")]
    if bad:
        customers += [
            (3, "not-an-email", "2025-03-01T09:00:00Z", "2026-10-30T09:00:00Z", None, 2, "c4"),
            (5, None, "2031-01-01T00:00:00Z", "2026-10-30T09:00:00Z", None, 2, "c5"),
        ]
        orders += [
            (13, 99, "2026-10-04T10:00:00Z", "complete", "EUR", 10.0, 0.0, 0.0, -10.0, 0.0, "o13"),
            (14, 1, "2030-06-01T10:00:00Z", "complete", "EUR", 10.0, 0.0, 0.0, 10.0, 0.0, "o14"),
        ]
        items += [(102, 777, 1, 10.0, 10.0, "i102")]
    con.execute(
        "CREATE OR REPLACE TABLE raw_shop.customers (entity_id BIGINT, email VARCHAR, "
        "created_at VARCHAR, updated_at VARCHAR, dob VARCHAR, gender BIGINT, _dlt_id VARCHAR, "
        "_dlt_load_id VARCHAR, _source_file VARCHAR)"
    )
    con.executemany(
        "INSERT INTO raw_shop.customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'customers_2026-10.jsonl')",
        [(*c, LOAD_ID) for c in customers],
    )
    con.execute(
        "CREATE OR REPLACE TABLE raw_shop.orders (entity_id BIGINT, customer_id BIGINT, "
        "created_at VARCHAR, status VARCHAR, order_currency_code VARCHAR, subtotal DOUBLE, "
        "discount_amount DOUBLE, shipping_amount DOUBLE, grand_total DOUBLE, "
        "total_refunded DOUBLE, customer_email VARCHAR, _dlt_id VARCHAR, _dlt_load_id VARCHAR, "
        "_source_file VARCHAR)"
    )
    con.executemany(
        "INSERT INTO raw_shop.orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'x@example.com', ?, ?, "
        "'orders_2026-10.jsonl')",
        [(*o, LOAD_ID) for o in orders],
    )
    con.execute(
        "CREATE OR REPLACE TABLE raw_shop.orders__items (item_id BIGINT, order_entity_id BIGINT, "
        "qty_ordered BIGINT, price DOUBLE, row_total DOUBLE, _dlt_id VARCHAR, _dlt_load_id VARCHAR)"
    )
    con.executemany(
        "INSERT INTO raw_shop.orders__items VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*i, LOAD_ID) for i in items],
    )


def make_marts(con: duckdb.DuckDBPyConnection, *, duplicate_person: bool = False) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    rows = [
        ("P1", "marie@example.com", "+33612345678", ["1"], ["LC1"], [], []),
        ("P2", None, "+33698765432", ["2"], [], [], []),
        ("P3", "anne@example.fr", "+33612345679", [], ["LC3"], ["CL-1"], ["SP-1"]),
    ]
    if duplicate_person:
        rows.append(("P1", "other@example.com", "+33600000000", [], [], [], []))
    con.execute(
        "CREATE OR REPLACE TABLE marts.customer_360 (person_id VARCHAR, email VARCHAR, "
        "phone VARCHAR, shop_customer_ids VARCHAR[], loyalty_card_ids VARCHAR[], "
        "clienteling_ids VARCHAR[], esp_contact_ids VARCHAR[], birth_date DATE, "
        "last_order_at TIMESTAMPTZ, orders_count BIGINT, is_identified BOOLEAN)"
    )
    con.executemany(
        "INSERT INTO marts.customer_360 VALUES (?, ?, ?, ?, ?, ?, ?, DATE '1985-03-12', "
        "TIMESTAMPTZ '2026-10-01 10:00:00+00', 1, true)",
        rows,
    )
