"""Integration: the real generator's extracts load completely, keys match the ground truth, and a
second run loads nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from cdp_demo.generator import generate

from cdp.settings import get_settings
from ingestion.pipeline import run_all
from ingestion.sources.specs import SOURCES, declared_columns, raw_tables
from tests.ingestion.ingestion_fixtures import count, query

# Every raw table the sources declare (ingestion/sources/<source>/, read through specs).
CONTRACT_TABLES = [f"raw_{s}.{t}" for s in SOURCES for t in raw_tables(s)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate(customers=300, seed=7, out=out)
    return out


def _oracle(landing: Path, sql: str) -> int:
    """Counts read straight from the files with DuckDB, independent of the pipeline."""
    con = duckdb.connect()
    try:
        return con.execute(sql.format(landing=landing)).fetchall()[0][0]
    finally:
        con.close()


def test_generated_extracts_load_completely(generated, cdp_env, monkeypatch):
    monkeypatch.setenv("CDP_LANDING_DIR", str(generated / "landing"))
    settings = get_settings()
    report = run_all(settings)
    assert report["errors"] == {}
    for table in CONTRACT_TABLES:
        assert count(settings, table) > 0, table

    # The warehouse has every declared column with its declared type.
    for source in SOURCES:
        for table, declared in declared_columns(source).items():
            found = dict(
                query(
                    settings,
                    "select column_name, lower(data_type) from information_schema.columns "
                    f"where table_schema = 'raw_{source}' and table_name = '{table}'",
                )
            )
            assert {c: found.get(c) for c, _ in declared} == dict(declared), (source, table)

    landing = generated / "landing"
    distinct = {
        "raw_shop.customers": "select count(distinct entity_id) from read_json('{landing}/shop/customers/*.jsonl')",
        "raw_shop.orders": "select count(distinct entity_id) from read_json('{landing}/shop/orders/*.jsonl')",
        "raw_shop.orders__items": "select count(distinct i.item_id) from (select unnest(items) i from read_json('{landing}/shop/orders/*.jsonl'))",
        "raw_clienteling.clients": "select count(distinct client_id) from read_csv('{landing}/clienteling/*.csv', all_varchar=true)",
        "raw_esp.events": "select count(distinct event_id) from read_json('{landing}/esp/events/*.jsonl')",
        "raw_web.events": "select count(distinct event_id) from read_parquet('{landing}/web/*.parquet')",
        "raw_consent.consent_events": "select count(distinct event_id) from read_json('{landing}/consent/*.jsonl')",
        "raw_catalog.products": "select count(*) from read_csv('{landing}/catalog/products.csv')",
    }
    for table, sql in distinct.items():
        assert count(settings, table) == _oracle(landing, sql), table

    truth = str(generated / "ground_truth" / "identity.parquet")
    keys = {
        "shop_customer": "select entity_id::varchar from raw_shop.customers",
        "shop_guest_order": "select increment_id from raw_shop.orders where customer_id is null",
        "pos_card": "select card_id from raw_pos.loyalty_cards",
        "clienteling": "select client_id from raw_clienteling.clients",
        "esp_contact": "select contact_id from raw_esp.contacts",
        "service_ticket": "select ticket_id from raw_service.tickets",
        "spreadsheet": "select source_file || '#' || source_row from raw_spreadsheets.event_signups",
    }
    for system, sql in keys.items():
        expected = query(
            settings,
            f"select source_key from read_parquet('{truth}') where source_system = '{system}' "
            "order by 1",
        )
        assert query(settings, f"select * from ({sql}) order by 1") == expected, system

    rejected = query(
        settings,
        "select table_schema from information_schema.tables where table_name = 'rejected_rows'",
    )
    assert rejected == []  # the demo extracts are clean

    again = run_all(settings)
    assert again["errors"] == {}
    assert again["rows"] == {}
