"""Warehouse side of the recommender, bounded in memory: read only what it needs, write
`ml.product_recommendations` block by block from NumPy codes.

Why views (`ml.inputs.load_inputs`): the recommender reads order lines, product events, the
orders (cutoff, data hash) and who is identified, each a few times, by aggregate queries that
DuckDB runs on the warehouse file itself; and why codes: a frame of every person's ten rows
with product names and URLs as Python strings grows to gigabytes at a million persons.
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
from ml.inputs import RECOMMENDER_INPUTS, load_inputs
from ml.prediction_scoring import (
    RECOMMENDATIONS,
    RECOMMENDER,
    in_stock,
    load_products,
)

FLUSH_ROWS = 500_000  # recommendation rows per INSERT
TABLE_SCHEMA = """person_id VARCHAR, rank BIGINT, sku VARCHAR, product_name VARCHAR,
    product_url VARCHAR, score DOUBLE, reason VARCHAR, model_version VARCHAR,
    scored_at TIMESTAMP WITH TIME ZONE"""


def load_recommendation_data(con: duckdb.DuckDBPyConnection) -> BehaviourData:
    """The recommender's inputs (`ml.inputs.load_inputs`): orders (the cutoff and the data
    hash), order lines, product events, the identifying moments (who gets recommendations)
    and the catalogue's categories, as views over the warehouse."""
    return load_inputs(con, RECOMMENDER_INPUTS)


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
