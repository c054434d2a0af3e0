"""Orders of a generated retailer as a plain orders CSV, for the churn benchmark (not a test).

    .venv/bin/cdp generate --customers 100000 --seed 42 --out /tmp/x/gen
    .venv/bin/python scripts/generated_orders.py --generated /tmp/x/gen --out /tmp/x/orders.csv

Why: `scripts/bench_predict.py` times the churn and value training on an orders file, and a
100,000-customer warehouse built by `cdp demo` takes far longer than the generator. This reads
the generator's own landing files (web shop orders JSONL, POS receipts in SQLite) and its
ground truth (which true person holds each shop account, guest order and loyalty card), so the
customer id is the generated person, not the identity resolution's guess. As in
`marts.orders`: cancelled web orders are left out, a web order's amount is net of refunds, a
receipt without a loyalty card (no person) is left out, and returns keep their negative amount
(the churn features treat a negative amount as a return, not a purchase). Only the columns the
churn model reads are written (no name, e-mail or address).
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd


def export(generated: Path, out: Path) -> int:
    """Write the orders CSV; returns the number of orders written."""
    con = duckdb.connect()
    identity = generated / "ground_truth" / "identity.parquet"
    shop = generated / "landing" / "shop" / "orders" / "*.jsonl"
    pos = generated / "landing" / "pos" / "pos.sqlite"
    with sqlite3.connect(f"file:{pos}?mode=ro", uri=True) as db:  # no DuckDB extension needed
        receipts = pd.read_sql_query(
            "SELECT receipt_id, card_id, sold_at, total_amount, store_id FROM receipts", db
        )
    con.register("receipts", receipts)
    con.execute(
        f"""
        CREATE TEMP TABLE ids AS
        SELECT source_system, source_key, person_id FROM read_parquet('{identity}')
        WHERE source_system IN ('shop_customer', 'shop_guest_order', 'pos_card')
          AND NOT coalesce(is_test, false)
        """
    )
    con.execute(
        f"""
        COPY (
          SELECT i.person_id AS customer_id, 'W' || o.increment_id AS order_id,
                 o.created_at AS ordered_at,
                 round(o.grand_total - coalesce(o.total_refunded, 0), 2) AS amount,
                 'web' AS channel, NULL AS store_id
          FROM read_json_auto('{shop}') o
          JOIN ids i  -- one equi-join: an OR of two join conditions is a nested loop
            ON i.source_system = CASE WHEN o.customer_is_guest THEN 'shop_guest_order'
                                      ELSE 'shop_customer' END
           AND i.source_key = CASE WHEN o.customer_is_guest
                                   THEN CAST(o.increment_id AS VARCHAR)
                                   ELSE CAST(o.customer_id AS VARCHAR) END
          WHERE lower(o.status) NOT IN ('canceled', 'cancelled')
            AND o.customer_is_guest IS NOT NULL
          UNION ALL
          SELECT i.person_id, 'R' || r.receipt_id, r.sold_at, r.total_amount, 'store',
                 r.store_id
          FROM receipts r JOIN ids i
            ON i.source_system = 'pos_card' AND i.source_key = r.card_id
          ORDER BY 1, 3, 2
        ) TO '{out}' (HEADER)
        """
    )
    return con.execute(f"SELECT count(*) FROM read_csv('{out}')").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", required=True, type=Path, help="`cdp generate --out`")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    print(f"wrote {export(args.generated, args.out):,} orders to {args.out}")


if __name__ == "__main__":
    main()
