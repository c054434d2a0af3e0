"""Point of sale (Retail Pro-like till system): one SQLite database.

Raw tables `raw_pos.stores`, `raw_pos.loyalty_cards`, `raw_pos.receipts`,
`raw_pos.receipt_lines`, read with dlt's `sql_table` and the pyarrow backend (rows travel as
Arrow batches), incrementally on the `updated_at` text column (ISO strings compare in time
order) and merged on the primary keys of `config/sources.yaml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dlt
import sqlalchemy as sa
from dlt.extract.resource import DltResource
from dlt.sources.sql_database import sql_table

from ingestion.config import TableConfig
from ingestion.sources._common import SCHEMA_CONTRACT

DESCRIPTIONS = {
    "stores": "Boutiques, outlets and corners; `generic_email` is the store's own address.",
    "loyalty_cards": "Store loyalty cards with the holder's details, one row per `card_id`.",
    "receipts": "Till receipts (sales and returns), one row per `receipt_id`.",
    "receipt_lines": "Receipt lines, one row per (`receipt_id`, `line_no`).",
}


def _sqlite_types(sql_type: Any) -> Any:
    """SQLite `REAL` columns are doubles (dlt does not map SQLAlchemy 2.1 float types)."""
    if isinstance(sql_type, sa.REAL):
        return sa.Numeric(asdecimal=False)
    return sql_type


def pos_table(
    database: Path, name: str, cfg: TableConfig, chunk_size: int = 100_000
) -> DltResource:
    """One SQLite table as an incremental, merged resource (pyarrow backend)."""
    resource = sql_table(
        credentials=f"sqlite:///{Path(database).as_posix()}",
        table=name,
        backend="pyarrow",
        chunk_size=chunk_size,
        incremental=dlt.sources.incremental(cfg.cursor) if cfg.cursor else None,
        defer_table_reflect=True,
        reflection_level="full",
        write_disposition="merge",
        primary_key=list(cfg.primary_key),
        type_adapter_callback=_sqlite_types,
    )
    resource.__doc__ = DESCRIPTIONS.get(name)
    return resource


@dlt.source(name="pos", schema_contract=SCHEMA_CONTRACT)
def pos(database: Path, tables: dict[str, TableConfig]) -> list[DltResource]:
    """The till database `database` (default `<landing>/pos/pos.sqlite`).

    Args:
        database: path of the SQLite file.
        tables: the `sources.pos.tables` section of `config/sources.yaml`.
    """
    return [pos_table(database, name, cfg) for name, cfg in tables.items() if cfg.enabled]
