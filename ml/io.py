"""Reading a plain orders file for `cdp churn backtest`, tolerant of real-world exports.

Required columns `customer_id, order_id, ordered_at, amount` (header names are matched
case-insensitively, surrounding spaces ignored); optional `channel, store_id`; other columns
are ignored. The delimiter is sniffed. `ordered_at` may be an ISO date or timestamp (with or
without `T`, `Z` or an offset) or a day-first date (`DD/MM/YYYY`, `DD.MM.YYYY`, optional time): the shapes of the platform's
date parser, `cdp/normalize/tables/dates.yaml`.
`amount` may use a comma as decimal separator, thousands separators and a currency sign.
Several rows with the same `(customer_id, order_id)` (order lines) are summed into one order.
A row whose date or amount cannot be read, or without a customer id, is rejected with its line
number and reason, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp.normalize.dates import strptime_sql

REQUIRED = ("customer_id", "order_id", "ordered_at", "amount")
OPTIONAL = ("channel", "store_id")


class OrdersFileError(ValueError):
    """The orders file cannot be used (missing, unreadable, a required column absent)."""


@dataclass
class OrdersFile:
    table: str  # name of the parsed orders table in the connection
    rows_read: int
    orders: int
    rejected: int


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_orders_csv(
    path: str | Path, con: duckdb.DuckDBPyConnection, table: str = "orders_parsed"
) -> OrdersFile:
    """Parse `path` into table `table` (and rejects into `<table>_rejected`) inside `con`."""
    path = Path(path)
    if not path.exists():
        raise OrdersFileError(f"{path}: file not found")
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE orders_raw AS SELECT * FROM read_csv(?, "
            "all_varchar = true, header = true)",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise OrdersFileError(f"{path}: cannot read as CSV: {exc}") from exc
    columns = [r[0] for r in con.execute("DESCRIBE orders_raw").fetchall()]
    by_name: dict[str, str] = {}
    for col in columns:
        by_name.setdefault(col.strip().lower().replace(" ", "_"), col)
    missing = [c for c in REQUIRED if c not in by_name]
    if missing:
        raise OrdersFileError(
            f"{path}: missing required column(s) {', '.join(missing)} (found: {', '.join(columns)})"
        )

    def col(name: str) -> str:
        return f"trim({_quote(by_name[name])})" if name in by_name else "NULL::VARCHAR"

    # amount: keep digits, sign, separators; the last of ',' / '.' is the decimal separator.
    amount_sql = """
        CASE
          WHEN a IS NULL OR a = '' THEN NULL
          WHEN contains(a, ',') AND contains(a, '.') THEN
            CASE WHEN strpos(reverse(a), ',') < strpos(reverse(a), '.')
                 THEN replace(replace(a, '.', ''), ',', '.')
                 ELSE replace(a, ',', '') END
          WHEN contains(a, ',') THEN replace(a, ',', '.')
          ELSE a END
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE orders_typed AS
        SELECT line_number, customer_id, order_id, channel, store_id, raw_ordered_at, raw_amount,
               {strptime_sql("raw_ordered_at")} AS ordered_at,
               try_cast({amount_sql} AS DOUBLE) AS amount
        FROM (
            SELECT row_number() OVER () + 1 AS line_number,
                   nullif({col("customer_id")}, '') AS customer_id,
                   nullif({col("order_id")}, '') AS order_id,
                   nullif(lower({col("channel")}), '') AS channel,
                   nullif({col("store_id")}, '') AS store_id,
                   {col("ordered_at")} AS raw_ordered_at,
                   {col("amount")} AS raw_amount,
                   regexp_replace({col("amount")}, '[^0-9,.+-]', '', 'g') AS a
            FROM orders_raw)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table}_rejected AS
        SELECT line_number, customer_id, order_id, raw_ordered_at AS ordered_at,
               raw_amount AS amount,
               CASE WHEN customer_id IS NULL THEN 'missing customer_id'
                    WHEN ordered_at IS NULL THEN 'unreadable ordered_at'
                    ELSE 'unreadable amount' END AS reason
        FROM orders_typed
        WHERE customer_id IS NULL OR ordered_at IS NULL OR amount IS NULL
        ORDER BY line_number
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT customer_id, coalesce(order_id, 'line-' || min(line_number)) AS order_id,
               min(ordered_at) AS ordered_at, sum(amount) AS amount,
               any_value(channel) AS channel, any_value(store_id) AS store_id
        FROM orders_typed
        WHERE customer_id IS NOT NULL AND ordered_at IS NOT NULL AND amount IS NOT NULL
        GROUP BY customer_id, order_id, CASE WHEN order_id IS NULL THEN line_number END
        """
    )
    rows_read = con.execute("SELECT count(*) FROM orders_typed").fetchone()[0]
    rejected = con.execute(f"SELECT count(*) FROM {table}_rejected").fetchone()[0]
    orders = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    con.execute("DROP TABLE orders_raw")
    con.execute("DROP TABLE orders_typed")
    if orders == 0:
        raise OrdersFileError(
            f"{path}: no usable order rows ({rows_read} read, {rejected} rejected)"
        )
    if "channel" not in by_name or "store_id" not in by_name:
        drop = [c for c in OPTIONAL if c not in by_name]
        for c in drop:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {c}")
    return OrdersFile(table=table, rows_read=rows_read, orders=orders, rejected=rejected)
