"""Product catalogue: one CSV file (UTF-8, comma).

Raw table `raw_catalog.products` (PK `sku`); `price`/`cost` are decimals, `stock_qty` an
integer, `is_active` a boolean.
"""

from __future__ import annotations

import pyarrow as pa

from ingestion.sources._common import TableSpec, file_source
from ingestion.sources._model import MONEY, TEXT

PRODUCTS = TableSpec(
    name="products",
    description="The product catalogue, one row per `sku`.",
    schema=pa.schema(
        [
            ("sku", TEXT),
            ("name", TEXT),
            ("category", TEXT),
            ("subcategory", TEXT),
            ("collection", TEXT),
            ("price", MONEY),
            ("cost", MONEY),
            ("currency", TEXT),
            ("stock_qty", pa.int64()),
            ("is_active", pa.bool_()),
            ("launched_at", TEXT),
            ("updated_at", TEXT),
        ]
    ),
)

TABLES = (PRODUCTS,)


catalog = file_source("catalog", TABLES, "The catalogue export")
