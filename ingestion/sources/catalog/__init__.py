"""Product catalogue: one CSV file (UTF-8, comma).

Raw table `raw_catalog.products` (PK `sku`); `price`/`cost` are decimals, `stock_qty` an
integer, `is_active` a boolean.
"""

from __future__ import annotations

from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from ingestion.config import TableConfig
from ingestion.sources._common import SCHEMA_CONTRACT, TableSpec, file_source_resources

TEXT = pa.string()
MONEY = pa.decimal128(12, 2)

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


@dlt.source(name="catalog", schema_contract=SCHEMA_CONTRACT)
def catalog(base_dir: Path, tables: dict[str, TableConfig]) -> list[DltResource]:
    """The catalogue export under `base_dir` (default `<landing>/catalog`)."""
    return file_source_resources("catalog", TABLES, tables, Path(base_dir))
