"""The raw schema is declared once (ingestion/sources/<source>/); the dbt sources YAML and the
data contract page must not drift from it (`scripts/sync_raw_schema.py` rewrites them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingestion.config import KNOWN_TABLES
from ingestion.sources.contract import (
    sources_yaml_path,
    sync_data_contract,
    sync_sources_yaml,
)
from ingestion.sources.specs import (
    SOURCES,
    declared_columns,
    raw_tables,
    source_specs,
    sql_type,
)

ROOT = Path(__file__).resolve().parents[2]


def _yaml_columns(source: str) -> dict[str, list[tuple[str, str]]]:
    doc = yaml.safe_load(sources_yaml_path(ROOT / "dbt_project", source).read_text())
    (entry,) = doc["sources"]
    assert entry["schema"] == f"raw_{source}"
    return {
        t["name"]: [(c["name"], c.get("data_type")) for c in t.get("columns", [])]
        for t in entry["tables"]
    }


@pytest.mark.parametrize("source", SOURCES)
def test_dbt_sources_list_the_declared_tables_and_columns(source):
    in_yaml = _yaml_columns(source)
    declared = declared_columns(source)
    assert sorted(in_yaml) == sorted(declared), "tables missing from / extra in the YAML"
    for table, columns in declared.items():
        assert in_yaml[table] == columns, f"{source}.{table}: run scripts/sync_raw_schema.py"


@pytest.mark.parametrize("source", SOURCES)
def test_dbt_sources_yaml_is_what_the_sync_writes(source):
    text = sources_yaml_path(ROOT / "dbt_project", source).read_text()
    assert sync_sources_yaml(text, source) == text


def test_sync_restores_a_drifted_column_and_keeps_the_rest():
    path = sources_yaml_path(ROOT / "dbt_project", "catalog")
    text = path.read_text()
    drifted = text.replace("data_type: decimal(12,2)", "data_type: double", 1).replace(
        "          - name: stock_qty\n            data_type: bigint\n", ""
    )
    assert drifted != text
    assert sync_sources_yaml(drifted, "catalog") == text
    assert "loaded_at_field" in text  # hand-written parts are kept


def test_sync_refuses_a_declared_table_without_a_yaml_entry():
    text = sources_yaml_path(ROOT / "dbt_project", "esp").read_text()
    without = text.split("      - name: events")[0]
    with pytest.raises(ValueError, match="events"):
        sync_sources_yaml(without, "esp")


def test_data_contract_page_lists_the_declared_columns():
    text = (ROOT / "docs" / "data_contract.md").read_text()
    assert sync_data_contract(text) == text
    for source in SOURCES:
        for table, schema in raw_tables(source).items():
            line = next(x for x in text.splitlines() if x.startswith(f"| `raw_{source}.{table}` |"))
            assert all(f"`{f.name}` {sql_type(f.type)}" in line for f in schema)


def test_children_lead_with_the_parent_key_and_flatten_structs():
    shop = raw_tables("shop")
    assert shop["customers__addresses"].names[:2] == ["customer_entity_id", "id"]
    assert "addresses" not in shop["customers"].names
    assert "extension_attributes__loyalty_card_id" in shop["customers"].names
    assert shop["orders"].field("billing_address__street").type == "string"


def test_the_config_knows_the_declared_tables():
    for source in SOURCES:
        assert KNOWN_TABLES[source] == tuple(s.name for s in source_specs(source)), source
