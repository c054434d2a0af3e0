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

FLUSH_ROWS = 200_000  # recommendation rows per INSERT
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
    # per catalogue code (and per reason): looked up by DuckDB at the INSERT, so that a chunk
    # holds the person id and numbers, not every row's product strings
    lookups = [
        list(cat.items),
        named["product_name"].astype(object).where(named["product_name"].notna(), None).tolist(),
        named["product_url"].astype(object).where(named["product_url"].notna(), None).tolist(),
        [rec.FALLBACK, f"{rec.PERSONAL}:{trained.kind}"],
    ]
    ids = pa.array(np.asarray(persons, dtype=object), pa.string())
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
                f"""INSERT INTO {RECOMMENDATIONS}
                SELECT person_id, rank, ($1::VARCHAR[])[code + 1], ($2::VARCHAR[])[code + 1],
                       ($3::VARCHAR[])[code + 1], score, ($4::VARCHAR[])[personal + 1], $5,
                       CAST($6 AS TIMESTAMPTZ)
                FROM _rec_chunk""",
                [*lookups, card["version"], stamp],
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
            personal = lists.personal[row, col]
            chunks.append(
                pa.table(
                    {
                        "person_id": ids.take(pa.array(start + row)),
                        "rank": pa.array(col + 1, pa.int64()),
                        "code": pa.array(lists.items[row, col]),
                        "score": pa.array(lists.scores[row, col]),
                        "personal": pa.array(personal.astype(np.int8)),
                    }
                )
            )
            summary["persons"] += int(lists.filled.any(axis=1).sum())
            summary["rows"] += len(row)
            for name, n in (
                (lookups[3][1], personal.sum()),
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
