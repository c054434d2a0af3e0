"""Warehouse side of the recommender, bounded in memory: read only what it needs, write
`ml.product_recommendations` block by block from NumPy codes.

Why not `ml.prediction_scoring.load_behaviour` and a frame: that copies every event table of
the classifiers into an in-memory DuckDB (1.2 GB at 100,000 customers), where the recommender
reads order lines, product events, the orders (cutoff, data hash) and who is identified, each a
few times, by aggregate queries that DuckDB runs on the warehouse file itself; and a frame of
every person's ten rows with product names and URLs as Python strings grows to gigabytes at a
million persons.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ml import recommend as rec
from ml.artifact import load_named
from ml.behaviour import BehaviourData
from ml.features import ChurnData
from ml.prediction_scoring import (
    IDENTIFYING,
    RECOMMENDATIONS,
    RECOMMENDER,
    in_stock,
    load_products,
)

FLUSH_ROWS = 500_000  # recommendation rows per INSERT
NS = "recommender_inputs"  # the attached in-memory database of the input views
TABLE_SCHEMA = """person_id VARCHAR, rank BIGINT, sku VARCHAR, product_name VARCHAR,
    product_url VARCHAR, score DOUBLE, reason VARCHAR, model_version VARCHAR,
    scored_at TIMESTAMP WITH TIME ZONE"""


def load_recommendation_data(con: duckdb.DuckDBPyConnection) -> BehaviourData:
    """The recommender's inputs as views over the warehouse in an attached in-memory database
    (`ns`), so that nothing is copied: orders (the cutoff and the data hash, as `load_marts`
    reads them), order lines of orders not cancelled, product views and add-to-carts of the
    person's sessions, each identified person's first identifying moment (who gets
    recommendations) and the catalogue's categories (a small copy). The data is usable while
    `con` is open."""
    con.execute("SET TimeZone = 'UTC'")
    db = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {NS}")
    kept = "coalesce(lower(o.status), '') NOT IN ('canceled', 'cancelled')"
    views = {
        # the columns and casts of `ChurnData.from_connection`: the same data hash
        "orders": f"""SELECT CAST(person_id AS VARCHAR) AS customer_id,
                   CAST(order_key AS VARCHAR) AS order_id,
                   CAST(ordered_at AS TIMESTAMP) AS ordered_at,
                   CAST(net_amount AS DOUBLE) AS amount,
                   coalesce(CAST(is_return AS BOOLEAN), net_amount < 0) AS is_return
            FROM "{db}".marts.orders o
            WHERE person_id IS NOT NULL AND ordered_at IS NOT NULL
              AND net_amount IS NOT NULL AND {kept}""",
        "order_lines": f"""SELECT CAST(l.person_id AS VARCHAR) AS customer_id,
                   CAST(l.ordered_at AS TIMESTAMP) AS ordered_at,
                   upper(CAST(l.sku AS VARCHAR)) AS sku, CAST(l.quantity AS DOUBLE) AS quantity
            FROM "{db}".marts.order_lines l JOIN "{db}".marts.orders o USING (order_key)
            WHERE l.person_id IS NOT NULL AND l.ordered_at IS NOT NULL AND {kept}""",
        "product_events": f"""SELECT CAST(s.person_id AS VARCHAR) AS customer_id,
                   CAST(e.occurred_at AS TIMESTAMP) AS occurred_at,
                   upper(CAST(e.product_sku AS VARCHAR)) AS sku,
                   CASE lower(e.event_type) WHEN 'product_view' THEN 'view'
                       ELSE lower(e.event_type) END AS event_type
            FROM "{db}".staging.stg_web__events e
            JOIN "{db}".intermediate.int_web_sessions_attributed s USING (session_id)
            WHERE s.person_id IS NOT NULL AND e.product_sku IS NOT NULL
              AND e.occurred_at IS NOT NULL
              AND e.event_type IN ('product_view', 'add_to_cart')""",
        "identified": f"""SELECT CAST(person_id AS VARCHAR) AS customer_id,
                   CAST(min(occurred_at) AS TIMESTAMP) AS occurred_at
            FROM "{db}".marts.customer_timeline
            WHERE person_id IS NOT NULL AND occurred_at IS NOT NULL AND {IDENTIFYING}
            GROUP BY person_id""",
    }
    for name, sql in views.items():
        con.execute(f"CREATE OR REPLACE VIEW {NS}.{name} AS {sql}")
    categories = con.sql(
        f'SELECT sku, category AS item_group FROM "{db}".staging.stg_catalog__products'
    ).df()
    base = ChurnData(con, has_channel=False, has_store=False, ns=NS)
    data = BehaviourData(base, tables=("product_events", "order_lines", "identified"))
    return data.with_item_groups(categories)


def write_recommendations(
    data: BehaviourData, models_dir: Path, warehouse: duckdb.DuckDBPyConnection
) -> dict[str, object]:
    """Top-N for every identified person and every person with an interaction, written to
    `ml.product_recommendations` (product name, URL, model version) in one transaction,
    block by block. Returns the persons, rows and rows per reason."""
    trained, card = load_named(models_dir, RECOMMENDER)
    rcfg = card["config"]
    _first, cutoff = data.base.date_range()
    products = load_products(warehouse)
    persons = data.con.execute(
        f"""SELECT customer_id FROM {data.ns}.identified
            UNION SELECT customer_id FROM {data.ns}.orders ORDER BY 1"""
    ).df()["customer_id"]
    persons = pd.Index(persons).union(trained.interactions.users)
    cat = trained.catalogue(in_stock(products, rcfg["min_stock"]))
    named = products.drop_duplicates("sku").set_index("sku").reindex(cat.items)
    columns = {
        "sku": pa.array(np.asarray(cat.items, dtype=object), pa.string()),
        "product_name": pa.array(named["product_name"].astype(object), pa.string()),
        "product_url": pa.array(named["product_url"].astype(object), pa.string()),
    }
    ids = pa.array(np.asarray(persons, dtype=object), pa.string())
    reasons = pa.array([rec.FALLBACK, f"{rec.PERSONAL}:{trained.kind}"], pa.string())
    exclude = rec.recently_bought(data, cutoff, rcfg["exclude_bought_days"])
    stamp = datetime.now(UTC).isoformat()
    summary = {"persons": 0, "rows": 0, "reasons": {}}
    chunks: list[pa.Table] = []

    def flush() -> None:
        if not chunks:
            return
        warehouse.register("_rec_chunk", pa.concat_tables(chunks))
        try:
            warehouse.execute(
                f"""INSERT INTO {RECOMMENDATIONS} SELECT *, ?, CAST(? AS TIMESTAMPTZ)
                FROM _rec_chunk""",
                [card["version"], stamp],
            )
        finally:
            warehouse.unregister("_rec_chunk")
        chunks.clear()

    warehouse.execute("CREATE SCHEMA IF NOT EXISTS ml")
    warehouse.execute("BEGIN TRANSACTION")
    try:
        warehouse.execute(f"CREATE OR REPLACE TABLE {RECOMMENDATIONS} ({TABLE_SCHEMA})")
        for start, (lists,) in trained.ranked(persons, rcfg["top_n"], cat, exclude=exclude):
            row, col = np.nonzero(lists.filled)
            code = pa.array(lists.items[row, col])
            personal = lists.personal[row, col]
            chunks.append(
                pa.table(
                    {
                        "person_id": ids.take(pa.array(start + row)),
                        "rank": pa.array(col + 1, pa.int64()),
                        **{name: values.take(code) for name, values in columns.items()},
                        "score": pa.array(lists.scores[row, col]),
                        "reason": reasons.take(pa.array(personal.astype(np.int8))),
                    }
                )
            )
            summary["persons"] += int(lists.filled.any(axis=1).sum())
            summary["rows"] += len(row)
            for name, n in (
                (reasons[1].as_py(), personal.sum()),
                (rec.FALLBACK, (~personal).sum()),
            ):
                summary["reasons"][name] = summary["reasons"].get(name, 0) + int(n)
            if sum(len(c) for c in chunks) >= FLUSH_ROWS:
                flush()
        flush()
        warehouse.execute("COMMIT")
    except BaseException:
        warehouse.execute("ROLLBACK")
        raise
    summary["reasons"] = {k: v for k, v in summary["reasons"].items() if v}
    return summary
