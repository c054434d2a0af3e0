"""The generator writes the raw schema declared in ingestion/sources/<source>/, never its own."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from cdp_demo.generator import writers as W
from cdp_demo.generator.sources.spreadsheets import SHEET_HEADER

from ingestion.config import load_sources_config
from ingestion.sources.pos import TABLES as POS_TABLES
from ingestion.sources.specs import table_spec

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = table_spec("catalog", "products")
CUSTOMERS = table_spec("shop", "customers")


def _empty(names: list[str]) -> pa.Table:
    return pa.table({n: pa.array([], pa.string()) for n in names})


def test_conform_orders_the_columns_as_declared():
    names = PRODUCTS.schema.names
    table = W.conform(_empty(list(reversed(names))), PRODUCTS)
    assert table.column_names == names


def test_conform_refuses_a_missing_or_undeclared_column():
    names = PRODUCTS.schema.names
    with pytest.raises(ValueError, match=r"missing \['cost'\], undeclared \[\]"):
        W.conform(_empty([n for n in names if n != "cost"]), PRODUCTS)
    with pytest.raises(ValueError, match=r"undeclared \['margin'\]"):
        W.conform(_empty([*names, "margin"]), PRODUCTS)


def test_conform_refuses_nested_fields_other_than_declared():
    columns = {n: pa.array([None], CUSTOMERS.schema.field(n).type) for n in CUSTOMERS.schema.names}
    W.conform(pa.table(columns), CUSTOMERS)
    columns["extension_attributes"] = pa.array(
        [{"loyalty_card": "LC1", "is_subscribed": True}],
        pa.struct([("loyalty_card", pa.string()), ("is_subscribed", pa.bool_())]),
    )
    with pytest.raises(ValueError, match="extension_attributes"):
        W.conform(pa.table(columns), CUSTOMERS)


def test_select_list_casts_declared_decimals_and_refuses_undeclared_expressions():
    select = W.select_list(PRODUCTS, {"updated_at": "now()"})
    assert select.startswith("sku, name, ")
    assert "CAST(price AS DECIMAL(12,2)) AS price" in select
    assert select.endswith("now() AS updated_at")
    with pytest.raises(ValueError, match="margin"):
        W.select_list(PRODUCTS, {"margin": "price - cost"})


def test_till_tables_are_created_from_the_pos_declaration():
    ddl = {spec.name: W.sqlite_ddl(spec) for spec in POS_TABLES}
    assert ddl["stores"].startswith("CREATE TABLE stores (store_id TEXT PRIMARY KEY, name TEXT")
    assert "total_amount REAL" in ddl["receipts"] and "is_return INTEGER" in ddl["receipts"]
    assert ddl["receipt_lines"].endswith("PRIMARY KEY (receipt_id, line_no))")


def test_sign_up_sheet_headers_map_to_the_declared_columns():
    """The French headers are the file's; config's column_mapping turns them into the raw columns."""
    mapping = load_sources_config(ROOT / "config" / "sources.yaml").sources["spreadsheets"]
    mapping = mapping.tables["event_signups"].column_mapping
    declared = table_spec("spreadsheets", "event_signups").schema.names
    assert [mapping[h] for h in SHEET_HEADER] == declared[: len(SHEET_HEADER)]
